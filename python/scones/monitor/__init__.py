"""Monitoring of what the endpoint captured: read SageMaker data capture, aggregate, report.

Modules, one job each: `capture` decodes one JSONL record, `sources` streams lines from a
folder or S3, `aggregate` folds predictions into statistics and `summary.json`, `image_sample`
keeps a bounded sample of captured images, `plots` draws PNGs, `html_report` writes the page,
`run` ties them together and `cli` is the click command.
"""
