"""Container image URIs, always from the SageMaker SDK's tables (sagemaker.core.image_uris).

The SDK is imported inside the functions: it takes seconds to import and `scones --help`
must not pay for it.
"""

from __future__ import annotations

import re

# Endpoint instance used to pick the CPU flavour of the inference image. The endpoint's real
# instance type is a Terraform variable; any CPU type resolves to the same image.
DEFAULT_INFERENCE_INSTANCE_TYPE = "ml.m5.large"

# The SageMaker PyTorch containers (training and inference) the code in scones/model targets; both
# exist for this pair in the SDK's image tables. That code uses only long-stable torch APIs.
FRAMEWORK_VERSION = "2.6"
PY_VERSION = "py312"

_PYTORCH_TRAINING_TAG = re.compile(r"/pytorch-training:(?P<version>[\d.]+)-(?:gpu|cpu)-(?P<py>py\d+)")


def image_classification_image(region: str) -> str:
    """The built-in algorithm's image; SageMaker serves the trained model with the same image."""
    from sagemaker.core import image_uris

    return image_uris.retrieve("image-classification", region=region)


def pytorch_training_image(region: str, instance_type: str) -> str:
    from sagemaker.core import image_uris

    return image_uris.retrieve(
        "pytorch",
        region=region,
        version=FRAMEWORK_VERSION,
        py_version=PY_VERSION,
        instance_type=instance_type,
        image_scope="training",
    )


def pytorch_inference_image(
    region: str,
    instance_type: str = DEFAULT_INFERENCE_INSTANCE_TYPE,
    *,
    version: str | None = None,
    py_version: str | None = None,
) -> str:
    from sagemaker.core import image_uris

    if version is None or py_version is None:
        version, py_version = FRAMEWORK_VERSION, PY_VERSION
    return image_uris.retrieve(
        "pytorch",
        region=region,
        version=version,
        py_version=py_version,
        instance_type=instance_type,
        image_scope="inference",
    )


def inference_image_for(training_image: str, region: str) -> str | None:
    """The inference image matching a training job's image, or None when we cannot tell."""
    if "/image-classification:" in training_image:
        return image_classification_image(region)
    match = _PYTORCH_TRAINING_TAG.search(training_image)
    if match:
        return pytorch_inference_image(region, version=match["version"], py_version=match["py"])
    return None
