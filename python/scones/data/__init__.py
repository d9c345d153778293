"""CIFAR-100 bicycle/motorcycle data: download, read, lay out as PNGs + .lst, upload."""
