"""The PyTorch model: network, training recipe, SageMaker serving code and evaluation.

The modules that run inside SageMaker containers (`train.py`, `inference.py` and what they
import) are self-contained: they need only torch, numpy and pillow, and import their siblings
both as `scones.model.<name>` (in this package) and as top-level `<name>` (copied into a
SageMaker source_dir or the artifact's `code/`). Nothing here imports torch at package import.
"""
