"""Regenerate tests/fixtures/trained_model: the default recipe trained on the committed CIFAR-100
bicycles and motorcycles, seed 0, by the same function as `scones train --local`.

    make model-fixture        (about 150 s on two cores)

Only model.pt and metadata.json are kept: the tests pack them with the checkout's own serving code
(tests/support/trained_model.py). Run it when the recipe, the network or the guard's fitting
changes: tests/unit/evaluation/test_trained_guard.py says so when the fixture's recipe is not the
default recipe any more.
"""

from __future__ import annotations

import argparse
import tarfile
import tempfile
from pathlib import Path

from scones.model.inference import METADATA_FILE, MODEL_FILE
from scones.model.recipes import DEFAULT
from scones.paths import DEMO_TARBALL, repo_root
from scones.prepare import prepare_local
from scones.training.local import train_and_package

FIXTURE_DIR = repo_root() / "tests" / "fixtures" / "trained_model"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURE_DIR)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scones-fixture-") as tmp:
        prepared = Path(tmp) / "prepared"
        prepare_local(repo_root() / DEMO_TARBALL, prepared)
        tarball = Path(tmp) / "model.tar.gz"
        train_and_package(prepared, tarball, recipe=DEFAULT, seed=0)
        args.out.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as tar:
            for name in (MODEL_FILE, METADATA_FILE):
                member = tar.extractfile(name)
                if member is None:
                    raise SystemExit(f"{name} is missing from {tarball}")
                (args.out / name).write_bytes(member.read())
    print(f"wrote {args.out / MODEL_FILE} and {args.out / METADATA_FILE}")


if __name__ == "__main__":
    main()
