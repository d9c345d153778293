"""Batch augmentation on (N, 3, 32, 32) tensors in [0, 1], driven by a seeded torch.Generator.

Written with torch alone (no torchvision on these machines). Every random draw comes from the
generator passed in, so a seed reproduces the exact same augmented batches.
"""

from __future__ import annotations

import torch

if __package__:
    from .recipes import AugmentConfig
else:  # loaded from a SageMaker source_dir, siblings on sys.path
    from recipes import AugmentConfig  # type: ignore[no-redef]


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def random_translate(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    if padding <= 0:
        return images
    n, _, height, width = images.shape
    padded = torch.nn.functional.pad(images, (padding, padding, padding, padding), mode="reflect")
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, dy : dy + height, dx : dx + width] for i, (dy, dx) in enumerate(offsets)])


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flip = torch.rand(images.shape[0], generator=generator) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(3), images)


def color_jitter(images: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    if strength <= 0:
        return images
    n = images.shape[0]
    low, high = 1.0 - strength, 1.0 + strength
    brightness = _uniform(n, low, high, generator).view(-1, 1, 1, 1)
    contrast = _uniform(n, low, high, generator).view(-1, 1, 1, 1)
    saturation = _uniform(n, low, high, generator).view(-1, 1, 1, 1)
    out = images * brightness
    gray = (0.299 * out[:, 0] + 0.587 * out[:, 1] + 0.114 * out[:, 2]).unsqueeze(1)
    out = (out - gray.mean(dim=(2, 3), keepdim=True)) * contrast + gray.mean(dim=(2, 3), keepdim=True)
    gray = (0.299 * out[:, 0] + 0.587 * out[:, 1] + 0.114 * out[:, 2]).unsqueeze(1)
    out = (out - gray) * saturation + gray
    return out.clamp_(0.0, 1.0)


def cutout(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    if size <= 0:
        return images
    n, _, height, width = images.shape
    centres = torch.stack(
        [torch.randint(0, height, (n,), generator=generator), torch.randint(0, width, (n,), generator=generator)], 1
    )
    rows = torch.arange(height).view(1, -1, 1)
    cols = torch.arange(width).view(1, 1, -1)
    cy, cx = centres[:, 0].view(-1, 1, 1), centres[:, 1].view(-1, 1, 1)
    half = size // 2
    inside = (rows >= cy - half) & (rows < cy - half + size) & (cols >= cx - half) & (cols < cx - half + size)
    return images.masked_fill(inside.unsqueeze(1), 0.5)


def augment(images: torch.Tensor, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    out = random_translate(images, config.crop_padding, generator)
    if config.flip:
        out = random_flip(out, generator)
    out = color_jitter(out, config.color_jitter, generator)
    return cutout(out, config.cutout, generator)
