"""The out-of-distribution guard: "this image is not like the training images".

A two-class softmax has no way to say "neither": a cat, a blank frame or noise gets 0.97-0.99
for one of the classes. The guard scores each image beside its probabilities:

- `in_distribution`: minus the class-conditional Mahalanobis distance (Lee et al. 2018: one
  covariance shared by the classes, shrunk towards its mean variance) of the image's features to
  the nearest class mean of the TRAINING images' features, averaged over the ensemble's members
  and divided by the feature width. Higher = more like the training images. The features are the
  second-to-last block's channels, global-average-pooled and averaged over the TTA views
  (net.SconesNet.forward_with_statistics): the penultimate, max-pooled features the head reads
  separate nothing (RECIPE.md, "Out-of-distribution guard"). They come out of the forward pass the
  probabilities need, so the score costs one (width x width) product per member.
- the threshold: where the held-out validation images' scores put the target TPR, by a robust
  log-normal fit (median and MAD of the log distances) rather than the raw quantile: the 1%
  quantile of 100 scores is the lowest one or two, set by whichever validation images happen to be
  odd (RECIPE.md). The training images' own scores are optimistic: the network has seen them.
- input sanity checks (`input_faults`) that need no fitting: a near-constant frame (a lens cap, a
  dead sensor) or one whose neighbouring pixels are no more alike than random pixels (noise, 1-pixel
  patterns); no CIFAR photo of the training or test split is either.

Self-contained (torch only): copied into the artifact's `code/`. RECIPE.md has the measurements.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import torch

METHOD = "mahalanobis"
FEATURES = "second-to-last block, global average pool, mean over TTA views"
THRESHOLD_RULE = "validation scores, log-normal fit by median and MAD, at the target TPR"
# The share of held-out in-distribution images the threshold is set to keep: the endpoint's
# coverage may drop by at most two points (RECIPE.md, "Out-of-distribution guard").
DEFAULT_TARGET_TPR = 0.99
# Shrinkage of the shared covariance towards its mean variance: 900 training features in 128
# dimensions estimate it poorly in its smallest directions, which Mahalanobis distance weights
# most. 0.3 separated the guide images best of 0.01-0.5 (RECIPE.md).
COVARIANCE_SHRINKAGE = 0.3
# Input sanity checks, on the 32x32 image in [0, 1] the network sees. Thresholds with margin below
# every one of the 1000 training images (RECIPE.md).
FLAT_STD = 0.02  # each channel's standard deviation over the frame (5 of 255 levels)
NOISE_CORRELATION = 0.2  # correlation of horizontally and vertically adjacent grey levels


class GuardFormatError(ValueError):
    """The artifact's saved guard is not one this code can use."""


def input_faults(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, 32, 32) in [0, 1] -> (N,) bool: the frame is near-constant or noise-like."""
    x = images.double()
    flat = x.flatten(2).std(dim=2).amax(dim=1) < FLAT_STD  # every channel near-constant: any one colour
    grey = x.mean(dim=1)
    return flat | (_neighbour_correlation(grey) < NOISE_CORRELATION)


def _neighbour_correlation(grey: torch.Tensor) -> torch.Tensor:
    """(N, H, W) -> (N,): Pearson correlation of each pixel with its right and lower neighbours."""
    pairs = [(grey[:, :, :-1], grey[:, :, 1:]), (grey[:, :-1, :], grey[:, 1:, :])]
    a = torch.cat([first.flatten(1) for first, _ in pairs], dim=1)
    b = torch.cat([second.flatten(1) for _, second in pairs], dim=1)
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    denominator = (a.square().sum(dim=1) * b.square().sum(dim=1)).sqrt()
    # A constant frame has no correlation to speak of; the flat check flags it.
    return torch.where(denominator > 0, (a * b).sum(dim=1) / denominator.clamp(min=1e-12), torch.ones_like(denominator))


@dataclass(frozen=True)
class Guard:
    """A fitted Mahalanobis guard: per member, the class means and the shared precision matrix."""

    means: torch.Tensor  # (members, classes, width)
    precisions: torch.Tensor  # (members, width, width)
    threshold: float  # scores below it are out of distribution
    target_tpr: float
    fitted_on: Mapping[str, int]  # image counts: "train" (means, covariance), "validation" (threshold)

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """(members, N, width) features (Predictor.logits_and_features) -> (N,) float64 scores."""
        if features.shape[0] != self.means.shape[0] or features.shape[-1] != self.means.shape[-1]:
            raise GuardFormatError(
                f"features of shape {tuple(features.shape)} do not fit a guard for "
                f"{self.means.shape[0]} members of width {self.means.shape[-1]}"
            )
        return -_min_distances(features.double(), self.means, self.precisions).mean(dim=0) / self.means.shape[-1]

    def flags(self, scores: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """(N,) bool: the score is below the threshold or the frame fails a sanity check."""
        return (scores < self.threshold) | input_faults(images)

    def to_saved(self) -> dict[str, Any]:
        """What model.pt stores under "ood": tensors and plain values (torch.load weights_only)."""
        return {
            "method": METHOD,
            "features": FEATURES,
            "means": self.means.contiguous(),
            "precisions": self.precisions.contiguous(),
            "threshold": float(self.threshold),
            "target_tpr": float(self.target_tpr),
            "fitted_on": dict(self.fitted_on),
        }

    def facts(self) -> dict[str, Any]:
        """The guard as metadata.json records it (no tensors)."""
        return {
            "method": METHOD,
            "features": FEATURES,
            "covariance_shrinkage": COVARIANCE_SHRINKAGE,
            "threshold_rule": THRESHOLD_RULE,
            "threshold": float(self.threshold),
            "target_tpr": float(self.target_tpr),
            "fitted_on": dict(self.fitted_on),
            "input_checks": {"flat_std": FLAT_STD, "noise_correlation": NOISE_CORRELATION},
        }

    @classmethod
    def from_saved(cls, saved: Mapping[str, Any]) -> Guard:
        if saved.get("method") != METHOD or saved.get("features") != FEATURES:
            raise GuardFormatError(
                f"the guard scores {saved.get('method')!r} on {saved.get('features')!r}; "
                f"this code scores {METHOD!r} on {FEATURES!r}"
            )
        try:
            means, precisions = saved["means"].double(), saved["precisions"].double()
            guard = cls(
                means=means,
                precisions=precisions,
                threshold=float(saved["threshold"]),
                target_tpr=float(saved["target_tpr"]),
                fitted_on={str(k): int(v) for k, v in saved["fitted_on"].items()},
            )
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            raise GuardFormatError(f"the saved guard is incomplete: {exc}") from exc
        if means.ndim != 3 or precisions.shape != (means.shape[0], means.shape[2], means.shape[2]):
            raise GuardFormatError(f"means {tuple(means.shape)} and precisions {tuple(precisions.shape)} do not match")
        return guard


def _min_distances(features: torch.Tensor, means: torch.Tensor, precisions: torch.Tensor) -> torch.Tensor:
    """(members, N, width) -> (members, N): squared Mahalanobis distance to the nearest class mean."""
    centred = features[:, :, None, :] - means[:, None, :, :]  # (members, N, classes, width)
    distances = torch.einsum("mnkd,mde,mnke->mnk", centred, precisions, centred)
    return distances.min(dim=2).values


def fit_guard(
    train_features: torch.Tensor,
    train_labels: torch.Tensor,
    val_features: torch.Tensor,
    *,
    target_tpr: float = DEFAULT_TARGET_TPR,
) -> Guard:
    """Class means and shared covariance from the training features (members, N, width); the
    threshold from the validation features, for `target_tpr` of them (`robust_threshold`)."""
    if not 0.0 < target_tpr < 1.0:
        raise ValueError(f"target TPR {target_tpr} must be between 0 and 1")
    features = train_features.double()
    classes = int(train_labels.max()) + 1
    means = torch.stack([features[:, train_labels == k].mean(dim=1) for k in range(classes)], dim=1)
    centred = features - means[:, train_labels]
    covariance = centred.transpose(1, 2) @ centred / centred.shape[1]
    width = covariance.shape[-1]
    scale = torch.diagonal(covariance, dim1=1, dim2=2).mean(dim=1)[:, None, None]
    shrunk = (1 - COVARIANCE_SHRINKAGE) * covariance + COVARIANCE_SHRINKAGE * scale * torch.eye(width).double()
    # Contiguous, as model.pt stores them: the scores at fitting are bit for bit the served ones.
    means, precisions = means.contiguous(), torch.linalg.inv(shrunk).contiguous()
    unfitted = Guard(means, precisions, threshold=float("-inf"), target_tpr=target_tpr, fitted_on={})
    threshold = robust_threshold(unfitted.scores(val_features), target_tpr)
    return Guard(
        means=means,
        precisions=precisions,
        threshold=threshold,
        target_tpr=target_tpr,
        fitted_on={"train": int(train_features.shape[1]), "validation": int(val_features.shape[1])},
    )


def robust_threshold(scores: torch.Tensor, target_tpr: float) -> float:
    """The score above which `target_tpr` of in-distribution images lie, if their log distances
    (log of minus the score) are normal, with the normal's centre and spread estimated by the
    median and the MAD (x 1.4826): a few odd validation images move neither."""
    log_distances = torch.log((-scores.double()).clamp(min=1e-12))
    centre = torch.quantile(log_distances, 0.5)
    spread = 1.4826 * torch.quantile((log_distances - centre).abs(), 0.5)
    return float(-torch.exp(centre + NormalDist().inv_cdf(target_tpr) * spread))
