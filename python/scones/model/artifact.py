"""Writing a trained predictor as a SageMaker PyTorch model directory and model.tar.gz.

    model.pt          {"format", "class_names", "architecture", "members": [state_dict], "temperature", "flip_tta",
                       "ood": the out-of-distribution guard (ood.Guard.to_saved; absent in older artifacts)}
    metadata.json     the same facts (the guard's as "ood": method, threshold, target TPR, image counts)
                      plus recipe, seed and validation metrics, readable without torch
    code/             every module of this folder: inference.py is the serving entry point

Self-contained: SageMaker script mode's sagemaker_entry.py writes SM_MODEL_DIR with it.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import torch

if __package__:
    from .inference import ARTIFACT_FORMAT, GUARD_KEY, METADATA_FILE, MODEL_FILE
    from .net import Predictor
    from .ood import Guard
    from .preprocess import CLASS_NAMES
else:  # loaded from a SageMaker source_dir, siblings on sys.path
    from inference import ARTIFACT_FORMAT, GUARD_KEY, METADATA_FILE, MODEL_FILE  # type: ignore[no-redef]
    from net import Predictor  # type: ignore[no-redef]
    from ood import Guard  # type: ignore[no-redef]
    from preprocess import CLASS_NAMES  # type: ignore[no-redef]

# This folder is the manifest: every module in it ships, as the script-mode job's source_dir and as
# the artifact's code/, and nothing outside it does. (`__init__.py` only makes it the `scones.model`
# package in this repository; in SageMaker the modules import each other as top-level siblings.)
SHIPPED_DIR = Path(__file__).resolve().parent


def shipped_modules() -> list[Path]:
    return sorted(path for path in SHIPPED_DIR.glob("*.py") if path.name != "__init__.py")


def write_model_dir(
    predictor: Predictor,
    architecture: dict[str, Any],
    model_dir: Path,
    metadata: dict[str, Any],
    *,
    guard: Guard | None = None,
) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    members = [
        {name: tensor.detach().cpu().contiguous() for name, tensor in member.state_dict().items()}
        for member in predictor.members
    ]
    saved = {
        "format": ARTIFACT_FORMAT,
        "class_names": list(CLASS_NAMES),
        "architecture": architecture,
        "members": members,
        "temperature": float(predictor.temperature),
        "flip_tta": bool(predictor.flip_tta),
    }
    if guard is not None:
        saved[GUARD_KEY] = guard.to_saved()
    torch.save(saved, model_dir / MODEL_FILE)
    facts = {key: value for key, value in saved.items() if key not in ("members", GUARD_KEY)}
    if guard is not None:
        facts[GUARD_KEY] = guard.facts()
    facts["ensemble_members"] = len(members)
    facts["torch_version"] = torch.__version__
    (model_dir / METADATA_FILE).write_text(json.dumps({**facts, **metadata}, indent=2, sort_keys=True) + "\n")
    code_dir = model_dir / "code"
    code_dir.mkdir(exist_ok=True)
    for module in shipped_modules():
        shutil.copy2(module, code_dir / module.name)


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Same content -> same bytes: no timestamps or owners from this machine.
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def write_tarball(model_dir: Path, output_tar: Path) -> Path:
    """model_dir's files at the tarball's root, as SageMaker packs SM_MODEL_DIR."""
    output_tar.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(model_dir.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False, filter=_reset)
    with output_tar.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())
    return output_tar
