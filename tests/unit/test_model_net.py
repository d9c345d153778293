"""The network: its whitening stem decorrelates what it sees and stays fixed while the rest trains."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scones.model.net import SconesNet, whitening_filters  # noqa: E402
from scones.model.preprocess import normalise, to_tensor  # noqa: E402
from scones.model.trainer import bf16_is_faster, predict_logits, train  # noqa: E402
from tests.unit.test_model_fixtures import TINY_RECIPE, synthetic_image  # noqa: E402


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


def test_bf16_training_where_the_cpu_has_amx_and_fp32_weights_served_either_way() -> None:
    images, labels = _synthetic_set()
    amx = bf16_is_faster(torch.device("cpu"))
    mixed = train(images, labels, images[:4], labels[:4], TINY_RECIPE, seed=0)
    exact = train(images, labels, images[:4], labels[:4], replace(TINY_RECIPE, bf16=False), seed=0)
    assert exact.precision == "fp32"
    assert mixed.precision == ("bf16" if amx else "fp32")
    weights = [p for m in mixed.predictor.members for p in m.parameters()]
    reference = [p for m in exact.predictor.members for p in m.parameters()]
    # Autocast changes the arithmetic of the steps, never the dtype of what is stored and served.
    assert all(p.dtype == torch.float32 for p in weights)
    same = all(torch.equal(a, b) for a, b in zip(weights, reference, strict=True))
    assert same is not amx
    # GPUs train in fp32: T4-class cards have no bf16, and they are fast enough without it.
    assert not bf16_is_faster(torch.device("meta"))


@pytest.mark.parametrize("isa", ["AVX2", "AVX512_CORE", "AVX512_CORE_BF16"])
def test_fp32_where_onednn_may_not_use_amx(monkeypatch: pytest.MonkeyPatch, isa: str) -> None:
    # Without AMX, bf16 autocast is 1.4x (AVX512-BF16) to 11x (AVX2) slower than fp32 per step.
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa)
    images, labels = _synthetic_set()
    assert train(images, labels, images[:4], labels[:4], TINY_RECIPE, seed=0).precision == "fp32"
