"""Import the Lambda handlers the way the runtime does: `app` next to `lambda_common`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import lambda_common.endpoint
import lambda_common.runtime

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


def load_app(function: str) -> ModuleType:
    """A fresh import of lambdas/<function>/app.py (fresh, so boto3 clients are created under moto)."""
    lambda_common.runtime.client.cache_clear()
    lambda_common.endpoint.endpoint_client.cache_clear()
    lambda_common.endpoint.batch_refused_until.clear()  # a fresh sandbox remembers no refusal
    spec = importlib.util.spec_from_file_location(f"{function}_app", LAMBDAS / function / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
