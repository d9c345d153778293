"""A small CNN for 32x32 RGB, and the predictor that serves an ensemble of them.

Self-contained (torch only, plus the sibling `preprocess`): copied into the artifact's `code/`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

if __package__:
    from .preprocess import CLASS_NAMES, normalise
else:  # loaded from a SageMaker code/ or source_dir folder, siblings on sys.path
    from preprocess import CLASS_NAMES, normalise  # type: ignore[no-redef]


class ConvBlock(nn.Module):
    """conv, 2x2 max-pool, BN, GELU, then conv, BN, GELU: halves the resolution."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.gelu(self.bn1(self.pool(self.conv1(x))))
        return nn.functional.gelu(self.bn2(self.conv2(x)))


WHITENING_PATCH = 2  # the whitening stem sees 2x2 patches: 12 values, so 12 directions (and their negatives)
MAX_STAGES = 4  # 31 -> 15 -> 7 -> 3 -> 1 pixels: a fifth pooling would leave nothing


class SconesNet(nn.Module):
    """A frozen patch-whitening stem, one `ConvBlock` per width, global max pool, linear head.

    The stem's weights are not learnt: `set_whitening` sets them from the training images so the
    first layer starts out decorrelating pixels (the airbench CIFAR-10 speed-run design), which is
    what lets a network this small learn from 1000 images in a CPU budget (RECIPE.md).
    """

    def __init__(self, widths: Sequence[int] = (32, 128, 128), num_classes: int = len(CLASS_NAMES)) -> None:
        super().__init__()
        if not 1 <= len(widths) <= MAX_STAGES or min(widths) < 1:
            raise ValueError(f"widths {list(widths)} must be 1 to {MAX_STAGES} positive channel counts")
        directions = 3 * WHITENING_PATCH * WHITENING_PATCH
        self.whiten = nn.Conv2d(3, 2 * directions, WHITENING_PATCH, bias=True)
        self.whiten.weight.requires_grad_(False)
        blocks: list[nn.Module] = []
        in_channels = 2 * directions
        for width in widths:
            blocks.append(ConvBlock(in_channels, width))
            in_channels = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(in_channels, num_classes, bias=False)

    @torch.no_grad()
    def set_whitening(self, filters: torch.Tensor) -> None:
        """Fix the stem to `filters`, the output of `whitening_filters` on the training images."""
        self.whiten.weight.copy_(filters.to(self.whiten.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.blocks(nn.functional.gelu(self.whiten(x)))
        return self.head(torch.amax(features, dim=(2, 3)))

    def forward_with_statistics(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The logits, and what the out-of-distribution guard (ood.py) scores: the second-to-last
        block's channels, global-average-pooled (the only block of a one-block network), (N, width).

        That layer, not the penultimate one: the max-pooled features the head reads keep only what
        tells a bicycle from a motorcycle, and score a cat or a noise frame like a vehicle; one block
        earlier, the channels' averages still describe the whole image (RECIPE.md).
        """
        h = nn.functional.gelu(self.whiten(x))
        statistics_after = max(len(self.blocks) - 2, 0)
        statistics = h
        for index, block in enumerate(self.blocks):
            h = block(h)
            if index == statistics_after:
                statistics = h.mean(dim=(2, 3))
        return self.head(torch.amax(h, dim=(2, 3))), statistics


@torch.no_grad()
def whitening_filters(images: torch.Tensor, eps: float = 5e-4) -> torch.Tensor:
    """The stem's filters: the eigenvectors of the images' 2x2-patch covariance, scaled to unit
    variance, and their negatives (so the GELU after the stem keeps both signs). `images` are
    normalised (N, 3, 32, 32); computed once per training run and shared by every member."""
    k = WHITENING_PATCH
    patches = images.unfold(2, k, 1).unfold(3, k, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 3 * k * k).double()
    patches = patches - patches.mean(0)
    eigenvalues, eigenvectors = torch.linalg.eigh(patches.T @ patches / len(patches))
    filters = (eigenvectors.T / torch.sqrt(eigenvalues.clamp(min=0) + eps)[:, None]).reshape(-1, 3, k, k)
    return torch.cat([filters, -filters]).float()


def build_network(architecture: Mapping[str, Any]) -> SconesNet:
    """The network an artifact's `architecture` metadata describes."""
    return SconesNet(widths=tuple(int(w) for w in architecture["widths"]))


class Predictor(nn.Module):
    """What the endpoint runs: members' logits averaged over flip TTA, divided by the temperature.

    Input is (N, 3, 32, 32) in [0, 1]; `logits` is what temperature scaling is fitted on, so
    calibration and serving see exactly the same numbers.
    """

    def __init__(self, members: Sequence[nn.Module], *, temperature: float = 1.0, flip_tta: bool = True) -> None:
        super().__init__()
        if not members:
            raise ValueError("a predictor needs at least one network")
        self.members = nn.ModuleList(members)
        self.temperature = float(temperature)
        self.flip_tta = flip_tta

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_and_features(images)[0]

    def logits_and_features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The averaged logits (N, classes) and each member's `forward_with_statistics` features
        averaged over the TTA views (members, N, width): one forward pass gives both, so the
        out-of-distribution score (ood.py) costs the endpoint no extra convolutions."""
        device = next(self.parameters()).device
        x = normalise(images.to(device)).contiguous(memory_format=torch.channels_last)
        views = [x, torch.flip(x, dims=(3,))] if self.flip_tta else [x]
        total = torch.zeros(x.shape[0], len(CLASS_NAMES), dtype=x.dtype, device=device)
        features = []
        for member in self.members:
            member_features = torch.zeros((), dtype=x.dtype, device=device)
            for view in views:
                logits, statistics = member.forward_with_statistics(view)
                total = total + logits
                member_features = member_features + statistics
            features.append(member_features / len(views))
        return (total / (len(self.members) * len(views))).cpu(), torch.stack(features).cpu()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(images) / self.temperature, dim=1)
