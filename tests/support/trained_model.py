"""The committed trained model (tests/fixtures/trained_model) packed with TODAY's serving code.

model.pt and metadata.json are what `train_and_package` wrote for the default recipe, seed 0, on the
committed CIFAR-100 bicycles and motorcycles (`make model-fixture` writes them again; its README says
when). Only the weights are frozen: `code/` is copied from python/scones/model at test time, as
training would ship it, so the tests that use this artifact test the serving code of this checkout
on a fully trained model — what the two-epoch models of the other tests cannot show (they barely
separate anything).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from scones.model.artifact import shipped_modules, write_tarball
from scones.model.inference import METADATA_FILE, MODEL_FILE

FIXTURE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "trained_model"


def fixture_metadata() -> dict[str, Any]:
    return json.loads((FIXTURE_DIR / METADATA_FILE).read_text())


def trained_model_tarball(output_tar: Path) -> Path:
    """model.tar.gz of the committed weights and this checkout's serving code."""
    with tempfile.TemporaryDirectory(prefix="scones-fixture-") as tmp:
        model_dir = Path(tmp)
        for name in (MODEL_FILE, METADATA_FILE):
            shutil.copy2(FIXTURE_DIR / name, model_dir / name)
        (model_dir / "code").mkdir()
        for module in shipped_modules():
            shutil.copy2(module, model_dir / "code" / module.name)
        return write_tarball(model_dir, output_tar)
