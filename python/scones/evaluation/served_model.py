"""Load a model artifact (model.tar.gz, its unpacked folder, or an s3:// URI) and run its own
code/inference.py on image bytes, exactly as the endpoint would.

Used by `scones evaluate`: evaluating the artifact's serving code, not a re-implementation of
it, is what makes the numbers mean something for the endpoint. `ServedModel.answer` asks for the
object form of the endpoint's answer (docs/contracts.md: probabilities, in-distribution score and
the artifact's own out-of-distribution decision); an artifact whose output_fn refuses that media
type (one built before the guard) is asked for the plain list and its answers are "not checked".
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from scones.aws import InvalidS3UriError, parse_s3_uri

# The media type that asks an artifact's output_fn for the object form (python/scones/model/inference.py's
# PREDICTION_MEDIA_TYPE; this copy is what an artifact built by any version of the code is asked).
PREDICTION_MEDIA_TYPE = "application/vnd.scones.prediction+json"


class ArtifactError(ValueError):
    """The model artifact cannot be found, read or loaded, or answers outside the contract."""


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers for one image."""

    probabilities: tuple[float, ...]  # [p_bicycle, p_motorcycle]
    in_distribution: float | None  # higher = more like the training images; None: no score
    out_of_distribution: bool  # the artifact's own decision; False when not checked
    # The artifact gave a score: as the workflow's `ood.checked`, False for an artifact built before
    # the guard (no object form) and for one without a fitted guard (a null score).
    checked: bool


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
        # Learnt on the first answer(): whether output_fn gives the object form.
        self.answers_object_form: bool | None = None

    def _serialized(self, prediction: Any, accept: str) -> str | bytes:
        result = self._output_fn(prediction, accept)
        if isinstance(result, tuple):  # the toolkit lets output_fn return (body, content type)
            result = result[0]
        return result

    def _output(self, prediction: Any, accept: str) -> Any:
        return json.loads(self._serialized(prediction, accept))

    def _predict(self, body: bytes, content_type: str) -> Any:
        return self._predict_fn(self._input_fn(body, content_type), self.model)

    def probabilities(self, body: bytes, content_type: str = "image/png") -> list[float]:
        return [float(p) for p in self._output(self._predict(body, content_type), "application/json")]

    def answer(self, body: bytes, content_type: str = "image/png") -> Answer:
        """The endpoint's full answer for one image, asked for in the object form.

        The first call learns whether the artifact gives that form: an older output_fn refuses the
        media type with a ValueError (its UnsupportedAcceptError), one that ignores Accept answers
        the plain list. Either way every answer of that artifact is then "not checked".
        """
        prediction = self._predict(body, content_type)
        if self.answers_object_form is None:
            try:
                serialized = self._serialized(prediction, PREDICTION_MEDIA_TYPE)
            except ValueError:
                self.answers_object_form = False
            else:
                parsed = json.loads(serialized)
                self.answers_object_form = isinstance(parsed, dict)
                if isinstance(parsed, dict):
                    return _parse_object(parsed)
        elif self.answers_object_form:
            return _parse_object(self._output(prediction, PREDICTION_MEDIA_TYPE))
        probabilities = self._output(prediction, "application/json")
        return Answer(tuple(float(p) for p in probabilities), None, False, checked=False)


def _parse_object(result: dict[str, Any]) -> Answer:
    try:
        probabilities = tuple(float(p) for p in result["probabilities"])
        score = result["in_distribution"]
        flagged = result["out_of_distribution"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"the artifact's object-form answer {result!r} breaks the contract: {exc!r}") from exc
    score_ok = score is None or (isinstance(score, int | float) and not isinstance(score, bool))
    if not score_ok or not isinstance(flagged, bool):
        raise ArtifactError(
            f"the artifact's object-form answer {result!r} breaks the contract: "
            "in_distribution must be a number or null and out_of_distribution a boolean"
        )
    return Answer(probabilities, None if score is None else float(score), flagged, checked=score is not None)


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


@contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread while images are served one at a time: on a 32x32 image its threads
    cost more than they save, and on a busy machine many times more (measured: 354 images of a
    tiny model in 2.5 s on one thread, 52 s on two cores' default threads under load)."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def load_served_model(model: str, workdir: Path, *, session: boto3.Session | None = None) -> ServedModel:
    """`workdir` receives the download/unpacked files; the caller owns (and removes) it."""
    return ServedModel(fetch_artifact(model, workdir, session=session))
