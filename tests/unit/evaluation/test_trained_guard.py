"""The gate on a fully trained model, served by this checkout's code: what a driver's wrong photo gets.

Issue 18's promise, as `scones evaluate` reports it for the committed trained model
(tests/fixtures/trained_model): at the default 0.93 threshold, no synthetic or broken-camera frame and at
most 35 % of the photos of other things pass the gate, while the guard costs the vehicle photos at
most two points of coverage and no accuracy. A change to the serving code, the score or the gate that
lets a photo of a cat route a driver again fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scones import DEFAULT_THRESHOLD
from scones.evaluation.evaluate import evaluate_artifact
from scones.model.recipes import DEFAULT
from scones.paths import DEMO_TARBALL, repo_root
from scones.prepare import prepare_local
from tests.support.trained_model import fixture_metadata, trained_model_tarball


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("trained-guard")
    prepare_local(repo_root() / DEMO_TARBALL, out / "prepared")
    tarball = trained_model_tarball(out / "model.tar.gz")
    report = evaluate_artifact(str(tarball), out / "prepared", split="test", threshold=DEFAULT_THRESHOLD)
    return report["gate"]


def test_the_fixture_is_the_default_recipe() -> None:
    # As metadata.json holds it: JSON has lists, not tuples.
    assert fixture_metadata()["recipe"] == json.loads(json.dumps(DEFAULT.as_dict())), (
        "tests/fixtures/trained_model was trained with another recipe: run `make model-fixture`"
    )


def test_the_served_model_checks_every_image(gate: dict[str, Any]) -> None:
    assert DEFAULT_THRESHOLD == 0.93
    assert gate["checked"] is True


@pytest.mark.parametrize(("part", "at_most"), [("synthetic", 0.05), ("natural", 0.35)])
def test_images_of_other_things_are_stopped(gate: dict[str, Any], part: str, at_most: float) -> None:
    figures = gate["out_of_distribution"][part]
    without, with_guard = figures["without_guard"], figures["with_guard"]
    assert figures["split"] == "report"
    # Without the guard the threshold alone passes most of them: the guard is what stops them.
    assert without["share"] > 0.5
    assert with_guard["share"] <= at_most, figures["by_group"]


def test_every_synthetic_kind_is_flagged(gate: dict[str, Any]) -> None:
    by_group = gate["out_of_distribution"]["synthetic"]["by_group"]
    assert len(by_group) >= 10
    assert {group: row["flagged"] for group, row in by_group.items()} == {
        group: row["count"] for group, row in by_group.items()
    }


def test_vehicles_keep_their_coverage_and_accuracy(gate: dict[str, Any]) -> None:
    figures = gate["in_distribution"]
    assert figures["count"] == 200
    assert figures["with_guard"]["coverage"] >= 0.78
    assert figures["without_guard"]["coverage"] - figures["with_guard"]["coverage"] <= 0.02 + 1e-9
    assert figures["with_guard"]["accepted_accuracy"] >= 0.99


def test_photos_of_other_things_are_flagged_far_more_often_than_vehicles(gate: dict[str, Any]) -> None:
    natural, vehicles = gate["out_of_distribution"]["natural"], gate["in_distribution"]
    natural_rate, vehicle_rate = natural["flagged"] / natural["count"], vehicles["flagged"] / vehicles["count"]
    assert natural_rate >= 0.3, natural["by_group"]
    assert vehicle_rate <= 0.05  # the threshold's target: 99 % of in-distribution images pass it
    assert natural_rate >= 8 * vehicle_rate, (natural_rate, vehicle_rate)
