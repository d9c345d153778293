"""Synthetic and broken-camera frames for the out-of-distribution evaluation, generated from fixed
seeds (so nothing binary is committed and every run sees the same bytes).

Every frame is 32x32 RGB uint8, the size the model serves. Each kind draws its parameters (colours,
angles, periods, noise levels) from its own seed; the guide and report parts use disjoint seeds, so
a choice tuned on the guide frames is measured on frames it never saw.

Over- and under-exposed frames are made from synthetic scenes (smooth random colour fields), not
from test-split vehicle photos: a vehicle photo exposed so that it is still recognisable is still
a vehicle (the gate should pass it), and one exposed until nothing of it is left is a flat white or
black frame whose only trace of the vehicle is the test split it came from, which the in-distribution
figures already use. A smooth scene pushed past the sensor's range gives the same broken-camera
frames (clipped highlights, crushed shadows, read noise) without either problem.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

SIZE = 32
# Bumping it regenerates every frame: the report figures of earlier runs stop being comparable.
GENERATION = 1
SPLITS = ("guide", "report")
PER_KIND = {"guide": 10, "report": 20}

Frame = np.ndarray  # (SIZE, SIZE, 3) uint8


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=3).astype(float)


def _to_uint8(image: np.ndarray) -> Frame:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    return ys, xs


def _smooth_field(rng: np.random.Generator, coarse: int) -> np.ndarray:
    """A (SIZE, SIZE, 3) field in [0, 1] that varies slowly: a coarse random grid, bicubic-upsampled."""
    channels = []
    for _ in range(3):
        grid = Image.fromarray(rng.random((coarse, coarse)).astype(np.float32), mode="F")
        channels.append(np.asarray(grid.resize((SIZE, SIZE), Image.Resampling.BICUBIC)))
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def flat(rng: np.random.Generator) -> Frame:
    """One colour, as a lens cap, a blank screen or a camera that sends a fill colour."""
    return _to_uint8(np.broadcast_to(_colour(rng), (SIZE, SIZE, 3)))


def gradient(rng: np.random.Generator) -> Frame:
    """Linear (any angle) or radial blend between two colours."""
    ys, xs = _grid()
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * np.pi)
        t = (np.cos(angle) * xs + np.sin(angle) * ys) / SIZE
    else:
        cy, cx = rng.uniform(0, SIZE, size=2)
        t = np.hypot(ys - cy, xs - cx) / SIZE
    t = (t - t.min()) / max(t.max() - t.min(), 1e-9)
    a, b = _colour(rng), _colour(rng)
    return _to_uint8(a + (b - a) * t[..., None])


def uniform_noise(rng: np.random.Generator) -> Frame:
    """Grey uniform noise over a random range."""
    low = rng.uniform(0, 128)
    high = rng.uniform(low + 32, 256)
    return _to_uint8(np.repeat(rng.uniform(low, high, size=(SIZE, SIZE, 1)), 3, axis=2))


def gaussian_noise(rng: np.random.Generator) -> Frame:
    """Sensor noise around a random colour: a frame with no signal and the gain turned up."""
    return _to_uint8(_colour(rng) + rng.normal(0, rng.uniform(10, 60), size=(SIZE, SIZE, 1)))


def salt_and_pepper(rng: np.random.Generator) -> Frame:
    """Dead and hot pixels over a flat or smooth background."""
    base = _colour(rng) * (0.6 + 0.4 * _smooth_field(rng, 3)) if rng.random() < 0.5 else _colour(rng)
    image = np.broadcast_to(base, (SIZE, SIZE, 3)).copy()
    density = rng.uniform(0.05, 0.4)
    hit = rng.random((SIZE, SIZE))
    image[hit < density / 2] = 0
    image[(hit >= density / 2) & (hit < density)] = 255
    return _to_uint8(image)


def colour_noise(rng: np.random.Generator) -> Frame:
    """Independent noise per channel (uniform or Gaussian), as from a failing colour sensor."""
    if rng.random() < 0.5:
        return _to_uint8(rng.uniform(0, 256, size=(SIZE, SIZE, 3)))
    return _to_uint8(_colour(rng) + rng.normal(0, rng.uniform(20, 80), size=(SIZE, SIZE, 3)))


def stripes(rng: np.random.Generator) -> Frame:
    """Square or sine stripes of a random period and angle."""
    ys, xs = _grid()
    angle = rng.choice([0.0, np.pi / 2, rng.uniform(0, np.pi)])
    period = rng.uniform(2, 12)
    phase = 2 * np.pi * (np.cos(angle) * xs + np.sin(angle) * ys) / period
    wave = np.sin(phase)
    t = (wave > 0).astype(float) if rng.random() < 0.5 else (wave + 1) / 2
    a, b = _colour(rng), _colour(rng)
    return _to_uint8(a + (b - a) * t[..., None])


def checkerboard(rng: np.random.Generator) -> Frame:
    """Checkerboard of a random cell size, offset and (sometimes) rotation."""
    ys, xs = _grid()
    cell = rng.integers(2, 11)
    angle = rng.uniform(0, np.pi / 2) if rng.random() < 0.3 else 0.0
    u = np.cos(angle) * xs + np.sin(angle) * ys + rng.uniform(0, cell)
    v = -np.sin(angle) * xs + np.cos(angle) * ys + rng.uniform(0, cell)
    t = ((np.floor(u / cell) + np.floor(v / cell)) % 2)[..., None]
    a, b = _colour(rng), _colour(rng)
    return _to_uint8(a + (b - a) * t)


def overexposed(rng: np.random.Generator) -> Frame:
    """A smooth scene at 4-12x the right exposure: highlights clip to white, a little colour left."""
    scene = _smooth_field(rng, int(rng.integers(2, 6)))
    gain = rng.uniform(4, 12)
    return _to_uint8(255 * scene * gain + rng.normal(0, 2, size=(SIZE, SIZE, 3)))


def underexposed(rng: np.random.Generator) -> Frame:
    """A smooth scene at 2-8% of the right exposure plus read noise: a near-black frame."""
    scene = _smooth_field(rng, int(rng.integers(2, 6)))
    gain = rng.uniform(0.02, 0.08)
    return _to_uint8(255 * scene * gain + rng.normal(0, rng.uniform(0.5, 3), size=(SIZE, SIZE, 3)))


def dead_sensor(rng: np.random.Generator) -> Frame:
    """Broken read-out: one colour channel stuck, dead rows/columns, or a frame torn into bands."""
    scene = 255 * _smooth_field(rng, int(rng.integers(2, 6)))
    failure = rng.integers(0, 3)
    if failure == 0:
        scene[..., rng.integers(0, 3)] = rng.choice([0.0, 255.0])
        scene = scene * rng.uniform(0.2, 0.6)  # what is left of the other channels is dim
    elif failure == 1:
        lines = rng.random(SIZE) < rng.uniform(0.2, 0.5)
        value = rng.choice([0.0, 255.0])
        if rng.random() < 0.5:
            scene[lines] = value
        else:
            scene[:, lines] = value
    else:
        bands = np.sort(rng.choice(np.arange(1, SIZE), size=int(rng.integers(2, 6)), replace=False))
        for start, stop in zip([0, *bands], [*bands, SIZE], strict=True):
            scene[start:stop] = np.roll(scene[start:stop], int(rng.integers(-SIZE, SIZE)), axis=1) * rng.uniform(
                0.3, 1.5
            )
    return _to_uint8(scene)


KINDS: dict[str, Callable[[np.random.Generator], Frame]] = {
    "flat": flat,
    "gradient": gradient,
    "uniform-noise": uniform_noise,
    "gaussian-noise": gaussian_noise,
    "salt-and-pepper": salt_and_pepper,
    "colour-noise": colour_noise,
    "stripes": stripes,
    "checkerboard": checkerboard,
    "overexposed": overexposed,
    "underexposed": underexposed,
    "dead-sensor": dead_sensor,
}


def frame(kind: str, split: str, index: int) -> Frame:
    """Frame `index` of `kind` in `split`: its own seed, the same bytes on every machine and run."""
    if kind not in KINDS:
        raise ValueError(f"unknown synthetic kind {kind!r}; known: {', '.join(KINDS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    kind_index = list(KINDS).index(kind)
    rng = np.random.default_rng([GENERATION, SPLITS.index(split), kind_index, index])
    return KINDS[kind](rng)


def frames(split: str) -> list[tuple[str, str, Frame]]:
    """(name, source, frame) for every frame of a split. The source is the kind and seed: each
    frame is its own source, and a seed is never used in both splits."""
    return [
        (f"{kind}-{split}-{index:03d}", f"synthetic/{kind}/{split}-{index}", frame(kind, split, index))
        for kind in KINDS
        for index in range(PER_KIND[split])
    ]
