"""`scones release`: a model from data to a verified endpoint, stage by stage (issue 19).

One small module per concern: `config` (the environment's floors, approval mode and smoke test),
`workspace` (which Terraform root, state and tfvars a release drives), `terraform` (plan to a file,
apply that file, outputs), `plan_file` (the human summary of a saved plan), `gate`, `verify`,
`smoke`, `alarms` (which rollback alarms fired), `report` (report.json and summary.md, resumable),
`pipeline` (the stages in order, resume and rollback) and `cli` (the thin click command).
`registry` (the model registry) is its own helper's module.
"""
