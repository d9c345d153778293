"""The PyTorch model code that ships to SageMaker: everything in this folder, nothing else.

Every module here (`artifact.shipped_modules`) goes into the script-mode job's source_dir, whose
entry point is `sagemaker_entry.py`, and into the artifact's `code/`, whose entry point is
`inference.py`. So each module needs only torch, numpy, pillow and the stdlib, and imports its
siblings both as `scones.model.<name>` (in this package) and as top-level `<name>` (in SageMaker).
What runs only on this machine lives elsewhere: `scones.training` (jobs, `--local`) and
`scones.evaluation`. Nothing here imports torch at package import.
"""
