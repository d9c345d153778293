"""`scones train`: SageMaker training jobs (image-classification, pytorch) and `--local` training of
the named recipes (scones.model.recipes) on this machine."""
