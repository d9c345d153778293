"""Scones Unlimited delivery-vehicle classifier."""

__version__ = "0.1.0"

CLASS_NAMES = ("bicycle", "motorcycle")
"""Model output order: index 0 is bicycle, index 1 is motorcycle."""

CIFAR_FINE_LABELS = {8: 0, 48: 1}
"""CIFAR-100 fine label -> our class index."""

DEFAULT_THRESHOLD = 0.93
