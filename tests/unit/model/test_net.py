"""The network: its whitening stem decorrelates what it sees and stays fixed while the rest trains."""

from __future__ import annotations

from dataclasses import replace
from threading import current_thread

import numpy as np
import pytest
import torch

from scones.model import trainer
from scones.model.net import SconesNet, whitening_filters
from scones.model.preprocess import normalise, to_tensor
from scones.model.trainer import (
    bf16_is_faster,
    measure_precisions,
    predict_logits,
    threads_per_member,
    train,
)
from tests.support.model_fixtures import TINY_RECIPE, synthetic_image


def _correlated_images(n: int, seed: int = 0) -> torch.Tensor:
    """Smooth colour fields plus noise: neighbouring pixels and channels strongly correlated."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 1, 8, 8, generator=generator).repeat(1, 3, 1, 1)
    smooth = torch.nn.functional.interpolate(coarse, size=32, mode="bilinear", align_corners=False)
    return (smooth + 0.2 * torch.rand(n, 3, 32, 32, generator=generator)).clamp(0, 1)


def _synthetic_set() -> tuple[np.ndarray, np.ndarray]:
    labels = np.array([0, 1] * 8)
    return np.stack([synthetic_image(int(label), i) for i, label in enumerate(labels)]), labels


def test_whitening_stem_decorrelates_2x2_patches() -> None:
    images = normalise(_correlated_images(64))
    net = SconesNet(widths=(8,))
    net.set_whitening(whitening_filters(images))
    with torch.no_grad():
        out = torch.nn.functional.conv2d(images, net.whiten.weight[:12])  # the 12 directions, before GELU
    flat = out.permute(1, 0, 2, 3).reshape(12, -1).double()
    covariance = torch.cov(flat)
    raw = images.unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 12).double()
    raw_correlation = torch.corrcoef(raw.T)
    # The patches were far from white, and after the stem they are: unit variance, no correlation.
    assert (raw_correlation - torch.eye(12)).abs().max() > 0.5
    assert torch.allclose(covariance, torch.eye(12, dtype=torch.float64), atol=0.02)
    # The other 12 channels are the negatives, so the GELU after the stem keeps both signs.
    assert torch.equal(net.whiten.weight[12:], -net.whiten.weight[:12])


@pytest.mark.parametrize("widths", [(8,), (8, 16), (8, 16, 16), (8, 8, 8, 8)])
def test_two_class_logits_for_every_depth_that_fits_32_pixels(widths: tuple[int, ...]) -> None:
    assert SconesNet(widths=widths)(torch.rand(3, 3, 32, 32)).shape == (3, 2)


def test_depths_and_widths_that_cannot_work_are_refused() -> None:
    for widths in ((), (8,) * 5, (8, 0)):
        with pytest.raises(ValueError, match="widths"):
            SconesNet(widths=widths)


def test_training_leaves_the_stem_as_the_training_images_set_it() -> None:
    images, labels = _synthetic_set()
    result = train(images, labels, images[:4], labels[:4], TINY_RECIPE, seed=0)
    expected = whitening_filters(normalise(to_tensor(images)))
    assert len(result.predictor.members) == TINY_RECIPE.ensemble
    for member in result.predictor.members:
        assert torch.allclose(member.whiten.weight, expected, atol=1e-6)
        assert not member.whiten.weight.requires_grad


def test_served_probabilities_are_the_validation_logits_calibrated() -> None:
    images, labels = _synthetic_set()
    result = train(images, labels, images[:6], labels[:6], TINY_RECIPE, seed=1)
    val = to_tensor(images[:6])
    with torch.no_grad():
        served = result.predictor(val)
    # What temperature scaling was fitted on is exactly what the endpoint computes, and it helps.
    assert torch.allclose(result.val_logits, predict_logits(result.predictor, val))
    assert torch.allclose(served, torch.softmax(result.val_logits / result.temperature, dim=1))
    assert result.val_nll_after <= result.val_nll_before


@pytest.mark.parametrize("faster", [True, False])
def test_training_runs_in_the_precision_the_probe_measured_faster(
    monkeypatch: pytest.MonkeyPatch, faster: bool
) -> None:
    images, labels = _synthetic_set()
    probed: list[bool] = []

    def step_seconds(network: torch.nn.Module, batch: torch.Tensor, *, mixed: bool) -> float:
        # The probe times the network about to be trained, in the layout it trains in.
        assert isinstance(network, SconesNet) and batch.is_contiguous(memory_format=torch.channels_last)
        probed.append(mixed)
        return 0.010 if mixed == faster else 0.020

    monkeypatch.setattr(trainer, "_step_seconds", step_seconds)
    mixed = train(images, labels, images[:4], labels[:4], replace(TINY_RECIPE, bf16=True), seed=0)
    assert sorted(probed) == [False, True]
    assert mixed.precision == ("bf16" if faster else "fp32")
    fast, slow = 10.0, 20.0
    assert mixed.metrics()["precision_probe_ms"] == {"fp32": slow if faster else fast, "bf16": fast if faster else slow}
    exact = train(images, labels, images[:4], labels[:4], replace(TINY_RECIPE, bf16=False), seed=0)
    assert exact.precision == "fp32" and exact.step_ms is None
    weights = [p for m in mixed.predictor.members for p in m.parameters()]
    reference = [p for m in exact.predictor.members for p in m.parameters()]
    # Autocast changes the arithmetic of the steps, never the dtype of what is stored and served;
    # and probing takes no draw from the generators the members are seeded with.
    assert all(p.dtype == torch.float32 for p in weights)
    assert all(torch.equal(a, b) for a, b in zip(weights, reference, strict=True)) is not faster


def test_bf16_only_when_clearly_faster() -> None:
    # A near tie would let timing noise flip the choice, and with it the trained weights.
    assert bf16_is_faster({"fp32": 53.4, "bf16": 37.6})  # AMD EPYC, AVX512-BF16
    assert not bf16_is_faster({"fp32": 31.3, "bf16": 42.8})  # a Xeon capped to AVX512-BF16
    assert not bf16_is_faster({"fp32": 10.0, "bf16": 9.5})
    assert not bf16_is_faster(None)


def test_the_probe_times_both_precisions_here_and_gpus_are_not_probed() -> None:
    images = normalise(to_tensor(_synthetic_set()[0]))
    net = SconesNet(widths=(8, 16))
    before = [p.clone() for p in net.parameters()]
    step_ms = measure_precisions(net, images, torch.device("cpu"))
    assert step_ms is not None and set(step_ms) == {"fp32", "bf16"} and min(step_ms.values()) > 0
    # It trains a throwaway copy: the network it measured is untouched.
    assert all(torch.equal(a, b) and b.grad is None for a, b in zip(before, net.parameters(), strict=True))
    # GPUs train in fp32: T4-class cards have no bf16, and they are fast enough without it.
    assert measure_precisions(net, images, torch.device("meta")) is None


def test_the_served_weights_are_a_moving_average_of_the_trained_ones() -> None:
    net = SconesNet(widths=(4,))
    average = trainer._WeightAverage(net, decay=0.9)
    initial = {k: v.clone() for k, v in net.state_dict().items()}
    for step in (1, 2):
        with torch.no_grad():
            for parameter in net.parameters():
                parameter.add_(1.0)
            net.blocks[0].bn1.running_mean.add_(2.0)
            net.blocks[0].bn1.num_batches_tracked.add_(5)
        before = {k: v.clone() for k, v in average.network.state_dict().items()}
        average.update()
        decay = min(0.9, (1 + step) / (10 + step))  # the decay warms up
        trained = net.state_dict()
        for name, value in average.network.state_dict().items():
            if value.dtype.is_floating_point:
                assert torch.allclose(value, decay * before[name] + (1 - decay) * trained[name]), name
            else:  # BN's batch counter is copied, not averaged
                assert torch.equal(value, trained[name])
    # The average is its own network: the trained one moved further than the average did.
    assert not torch.allclose(average.network.head.weight, net.head.weight)
    assert not torch.allclose(average.network.head.weight, initial["head.weight"])


def test_members_side_by_side_learn_exactly_what_they_would_one_after_another() -> None:
    images, labels = _synthetic_set()
    recipe = replace(TINY_RECIPE, epochs=2)
    threads = torch.get_num_threads()
    workers: set[str] = set()
    try:
        torch.set_num_threads(2)  # two members, two threads: one each, side by side
        assert threads_per_member(torch.device("cpu"), 2) == 1
        side = train(
            images,
            labels,
            images[:4],
            labels[:4],
            recipe,
            seed=5,
            on_epoch=lambda _: workers.add(current_thread().name),
        )
        assert torch.get_num_threads() == 2  # what the caller had is restored
        torch.set_num_threads(1)  # one thread: one member after the other, on that thread
        assert threads_per_member(torch.device("cpu"), 2) is None
        alone = train(images, labels, images[:4], labels[:4], recipe, seed=5)
    finally:
        torch.set_num_threads(threads)
    assert len(workers) == 2 and current_thread().name not in workers
    for a, b in zip(side.predictor.members, alone.predictor.members, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert side.temperature == alone.temperature
    # The history reads member by member, epoch by epoch, however the threads interleaved.
    assert [(e.member, e.epoch) for e in side.history] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    # GPUs and single networks train with every thread.
    assert threads_per_member(torch.device("cuda"), 2) is None
    assert threads_per_member(torch.device("cpu"), 1) is None


def test_a_failing_member_stops_the_other_and_its_error_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    images, labels = _synthetic_set()
    threads = torch.get_num_threads()
    steps: list[int] = []
    real_augment = trainer.augment

    def augment(batch: torch.Tensor, config: object, generator: torch.Generator) -> torch.Tensor:
        steps.append(1)
        if current_thread().name.endswith("_1"):
            raise RuntimeError("member 2 ran out of memory")
        return real_augment(batch, config, generator)

    monkeypatch.setattr(trainer, "augment", augment)
    try:
        torch.set_num_threads(2)
        with pytest.raises(RuntimeError, match="member 2 ran out of memory"):
            train(images, labels, images[:4], labels[:4], replace(TINY_RECIPE, epochs=50), seed=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    # 50 epochs of 2 steps for the member that did not fail, had it not been stopped.
    assert len(steps) < 60
