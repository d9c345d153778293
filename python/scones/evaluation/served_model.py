"""Load a model artifact (model.tar.gz, its unpacked folder, or an s3:// URI) and run its own
code/inference.py on image bytes, exactly as the endpoint would.

Used by `scones evaluate`: evaluating the artifact's serving code, not a re-implementation of
it, is what makes the numbers mean something for the endpoint.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from scones.aws import InvalidS3UriError, parse_s3_uri


class ArtifactError(ValueError):
    """The model artifact cannot be found, read or loaded."""


def fetch_artifact(model: str, workdir: Path, *, session: boto3.Session | None = None) -> Path:
    """A local model directory (model.pt + code/) for `model`, downloading/unpacking into workdir.

    `session` downloads s3:// models (an `EndpointSession` for the emulator); default credentials
    and region otherwise.
    """
    if model.startswith("s3://"):
        try:
            bucket, key = parse_s3_uri(model)
        except InvalidS3UriError as exc:
            raise ArtifactError(str(exc)) from exc
        workdir.mkdir(parents=True, exist_ok=True)
        tarball = workdir / "model.tar.gz"
        try:
            (session or boto3.Session()).client("s3").download_file(bucket, key, str(tarball))
        except (ClientError, BotoCoreError) as exc:
            raise ArtifactError(f"cannot download {model}: {exc}") from exc
        return _unpack(tarball, workdir / "model")
    path = Path(model)
    if path.is_dir():
        return path
    if path.is_file():
        return _unpack(path, workdir / "model")
    raise ArtifactError(f"{model} does not exist")


def _unpack(tarball: Path, dest: Path) -> Path:
    try:
        with tarfile.open(tarball, "r:*") as tar:
            tar.extractall(dest, filter="data")  # refuses absolute paths, .. and device files
    except (tarfile.TarError, OSError) as exc:
        raise ArtifactError(f"{tarball} is not a readable model.tar.gz: {exc}") from exc
    return dest


class ServedModel:
    """The artifact's inference functions, loaded once."""

    def __init__(self, model_dir: Path) -> None:
        script = model_dir / "code" / "inference.py"
        if not script.is_file():
            raise ArtifactError(f"{model_dir} has no code/inference.py: not a SageMaker PyTorch artifact")
        module = _import_isolated(script)
        missing = [name for name in ("model_fn", "input_fn", "predict_fn", "output_fn") if not hasattr(module, name)]
        if missing:
            raise ArtifactError(f"{script} lacks {', '.join(missing)}")
        self._input_fn: Callable[[bytes, str], Any] = module.input_fn
        self._predict_fn: Callable[[Any, Any], Any] = module.predict_fn
        self._output_fn: Callable[[Any, str], Any] = module.output_fn
        try:
            self.model = module.model_fn(str(model_dir))
        except Exception as exc:  # whatever the artifact's own code raises, the artifact is unusable
            raise ArtifactError(f"the artifact's model_fn failed: {type(exc).__name__}: {exc}") from exc
        self.metadata: dict[str, Any] = {}
        metadata = model_dir / "metadata.json"
        if metadata.is_file():
            self.metadata = json.loads(metadata.read_text())

    def probabilities(self, body: bytes, content_type: str = "image/png") -> list[float]:
        result = self._output_fn(self._predict_fn(self._input_fn(body, content_type), self.model), "application/json")
        if isinstance(result, tuple):  # the toolkit lets output_fn return (body, content type)
            result = result[0]
        return [float(p) for p in json.loads(result)]


def _import_isolated(script: Path) -> ModuleType:
    """Import code/inference.py with code/ first on sys.path, then forget its sibling modules so
    they cannot shadow (or be shadowed by) same-named modules elsewhere in this process."""
    code_dir = str(script.parent)
    siblings = {p.stem for p in script.parent.glob("*.py")}
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name in siblings}
    sys.path.insert(0, code_dir)
    try:
        spec = importlib.util.spec_from_file_location("inference", script)
        if spec is None or spec.loader is None:
            raise ArtifactError(f"cannot import {script}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(code_dir)
        for name in siblings:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def load_served_model(model: str, workdir: Path, *, session: boto3.Session | None = None) -> ServedModel:
    """`workdir` receives the download/unpacked files; the caller owns (and removes) it."""
    return ServedModel(fetch_artifact(model, workdir, session=session))
