"""`scones train`: SageMaker training jobs (image-classification, pytorch) and local training."""
