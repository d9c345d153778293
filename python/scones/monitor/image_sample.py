"""A bounded, reproducible sample of captured images for the report's grid.

Two reservoirs (rejected, accepted) of `capacity` each see every record once, so memory stays
flat however much was captured; the grid shows rejected images first because those are the
ones a person wants to look at. Rejected means what the filter rejects: flagged out of distribution,
or below the threshold.
"""

from __future__ import annotations

import random

from scones.monitor.capture import CapturedPrediction

DEFAULT_MAX_IMAGES = 48


class _Reservoir:
    def __init__(self, capacity: int, rng: random.Random) -> None:
        self.capacity = capacity
        self.items: list[CapturedPrediction] = []
        self.seen = 0
        self._rng = rng

    def offer(self, item: CapturedPrediction) -> None:
        self.seen += 1
        if len(self.items) < self.capacity:
            self.items.append(item)
            return
        slot = self._rng.randrange(self.seen)
        if slot < self.capacity:
            self.items[slot] = item


class ImageSample:
    def __init__(self, threshold: float, capacity: int = DEFAULT_MAX_IMAGES, seed: int = 0) -> None:
        self.threshold = threshold
        self.capacity = capacity
        rng = random.Random(seed)
        self._rejected = _Reservoir(capacity, rng)
        self._accepted = _Reservoir(capacity, rng)

    def offer(self, prediction: CapturedPrediction) -> None:
        if not has_image_input(prediction):
            return
        reservoir = self._rejected if is_rejected(prediction, self.threshold) else self._accepted
        reservoir.offer(prediction)

    @property
    def held(self) -> int:
        """Predictions kept in memory right now (at most twice the capacity)."""
        return len(self._rejected.items) + len(self._accepted.items)

    def images(self) -> list[CapturedPrediction]:
        """At most `capacity` predictions: rejected ones first (flagged ones before low-confidence ones),
        each group least confident first.

        Rejected images take up to three quarters of the grid when accepted ones exist, so the
        reader still sees what the model gets right for comparison.
        """

        def by_confidence(items: list[CapturedPrediction]) -> list[CapturedPrediction]:
            return sorted(
                items, key=lambda p: (p.out_of_distribution is not True, p.confidence, p.inference_time, p.location)
            )

        rejected, accepted = self._rejected.items, self._accepted.items
        rejected_room = self.capacity - min(len(accepted), self.capacity // 4)
        chosen_rejected = by_confidence(rejected)[:rejected_room]
        chosen_accepted = by_confidence(accepted)[: self.capacity - len(chosen_rejected)]
        return chosen_rejected + chosen_accepted


def is_rejected(prediction: CapturedPrediction, threshold: float) -> bool:
    """As the filter judges: flagged out of distribution, or below the threshold."""
    return prediction.out_of_distribution is True or prediction.confidence < threshold


def has_image_input(prediction: CapturedPrediction) -> bool:
    content_type = (prediction.input_content_type or "").lower()
    return bool(prediction.input_bytes) and (not content_type or content_type.startswith("image/"))
