"""A small residual CNN for 32x32 RGB, and the predictor that serves an ensemble of them.

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


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus a shortcut (1x1 conv when the shape changes)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class SconesNet(nn.Module):
    """Stem conv, then one stage per width (the first at 32x32, each next one at half the size)."""

    def __init__(
        self,
        widths: Sequence[int] = (32, 64, 128),
        blocks: Sequence[int] = (1, 1, 1),
        dropout: float = 0.0,
        num_classes: int = len(CLASS_NAMES),
    ) -> None:
        super().__init__()
        if len(widths) != len(blocks) or not widths:
            raise ValueError(f"widths {widths} and blocks {blocks} must be non-empty and of equal length")
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()
        )
        layers: list[nn.Module] = []
        in_channels = widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks, strict=True)):
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                layers.append(ResidualBlock(in_channels, width, stride))
                in_channels = width
        self.stages = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.stages(self.stem(x))
        pooled = torch.flatten(nn.functional.adaptive_avg_pool2d(features, 1), 1)
        return self.head(self.dropout(pooled))


def build_network(architecture: Mapping[str, Any]) -> SconesNet:
    """The network an artifact's `architecture` metadata describes."""
    return SconesNet(
        widths=tuple(int(w) for w in architecture["widths"]),
        blocks=tuple(int(b) for b in architecture["blocks"]),
        dropout=float(architecture.get("dropout", 0.0)),
    )


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
        device = next(self.parameters()).device
        x = normalise(images.to(device)).contiguous(memory_format=torch.channels_last)
        views = [x, torch.flip(x, dims=(3,))] if self.flip_tta else [x]
        total = torch.zeros(x.shape[0], len(CLASS_NAMES), dtype=x.dtype, device=device)
        for member in self.members:
            for view in views:
                total = total + member(view)
        return (total / (len(self.members) * len(views))).cpu()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(images) / self.temperature, dim=1)
