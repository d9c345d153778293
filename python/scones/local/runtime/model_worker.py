"""A model server process: the SageMaker PyTorch serving contract over pipes.

Run by the emulator as `python -m scones.local.runtime.model_worker <model_dir>` on an unpacked
`model.tar.gz`. Like the SageMaker PyTorch inference toolkit it imports `code/<SAGEMAKER_PROGRAM>`
(default `inference.py`), calls `model_fn(model_dir)` once, and serves each request with
`input_fn` -> `predict_fn` -> `output_fn` (or `transform_fn`), falling back to the toolkit's
defaults for the functions the script leaves out.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from scones.local.runtime.worker_channel import WorkerChannel

DEFAULT_ACCEPT = "application/json"


class UnsupportedContentTypeError(Exception):
    """The default input_fn/output_fn do not handle this content type."""


def _load_script(model_dir: Path) -> ModuleType:
    code_dir = model_dir / "code"
    program = os.environ.get("SAGEMAKER_PROGRAM", "inference.py")
    script = code_dir / program
    if not script.is_file():
        raise FileNotFoundError(f"the model artifact has no code/{program}")
    # The toolkit puts code/ on sys.path so the script can import its sibling modules.
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(Path(program).stem, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _default_model_fn(model_dir: str) -> Any:
    import torch

    return torch.jit.load(os.path.join(model_dir, "model.pt"), map_location="cpu").eval()


def _default_input_fn(body: bytes, content_type: str) -> Any:
    import numpy as np
    import torch

    if content_type == "application/json":
        return torch.tensor(json.loads(body))
    if content_type == "application/x-npy":
        import io

        return torch.from_numpy(np.load(io.BytesIO(body), allow_pickle=False))
    raise UnsupportedContentTypeError(f"content type {content_type} is not supported by the default input_fn")


def _default_predict_fn(data: Any, model: Any) -> Any:
    import torch

    with torch.no_grad():
        return model(data)


def _default_output_fn(prediction: Any, accept: str) -> Any:
    if accept == "application/json":
        values = prediction.tolist() if hasattr(prediction, "tolist") else prediction
        return json.dumps(values)
    raise UnsupportedContentTypeError(f"accept type {accept} is not supported by the default output_fn")


class ModelService:
    def __init__(self, model_dir: Path) -> None:
        script = _load_script(model_dir)
        self._model_fn: Callable[[str], Any] = getattr(script, "model_fn", _default_model_fn)
        self._input_fn: Callable[[bytes, str], Any] = getattr(script, "input_fn", _default_input_fn)
        self._predict_fn: Callable[[Any, Any], Any] = getattr(script, "predict_fn", _default_predict_fn)
        self._output_fn: Callable[[Any, str], Any] = getattr(script, "output_fn", _default_output_fn)
        self._transform_fn: Callable[[Any, bytes, str, str], Any] | None = getattr(script, "transform_fn", None)
        self.model = self._model_fn(str(model_dir))

    def transform(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if self._transform_fn is not None:
            result = self._transform_fn(self.model, body, content_type, accept)
        else:
            data = self._input_fn(body, content_type)
            prediction = self._predict_fn(data, self.model)
            result = self._output_fn(prediction, accept)
        response_type = accept
        # The toolkit lets output_fn return (body, content_type).
        if isinstance(result, tuple):
            result, response_type = result
        if isinstance(result, str):
            result = result.encode("utf-8")
        return bytes(result), str(response_type)


def main(argv: list[str]) -> int:
    channel = WorkerChannel()
    try:
        service = ModelService(Path(argv[0]))
    except Exception as exc:
        traceback.print_exc()
        channel.end_of_request(0)
        channel.send({"type": "init_error", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    channel.end_of_request(0)
    channel.send({"type": "ready", "pid": os.getpid()})
    for header, body in channel.requests():
        content_type = str(header.get("content_type") or "application/json")
        accept = str(header.get("accept") or DEFAULT_ACCEPT)
        if accept == "*/*":
            accept = DEFAULT_ACCEPT
        try:
            response, response_type = service.transform(body, content_type, accept)
            reply: dict[str, Any] = {"type": "result", "ok": True, "content_type": response_type}
        except Exception as exc:
            traceback.print_exc()
            response = b""
            reply = {"type": "result", "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        channel.end_of_request(int(header["seq"]))
        channel.send(reply, response)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
