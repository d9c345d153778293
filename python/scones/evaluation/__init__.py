"""`scones evaluate`, on this machine: a model artifact's own serving code run on a prepared split,
metrics, threshold sweep and plots. Never shipped to SageMaker (it imports `scones`)."""
