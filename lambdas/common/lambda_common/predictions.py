"""The endpoint's answer, in either of its forms, as the record's probabilities and out-of-distribution verdict.

- `[p_bicycle, p_motorcycle]` (Accept application/json, and the built-in image-classification algorithm):
  no score, so the verdict is "not checked".
- `{"probabilities": [...], "in_distribution": <float or null>, "out_of_distribution": <bool>}` (Accept
  PREDICTION_MEDIA_TYPE, the project's own serving code): the artifact's score and its own decision.

Either may come as a batch of one.
"""

from __future__ import annotations

from typing import Any

from lambda_common.errors import InvalidInferencesError
from lambda_common.events import NOT_CHECKED, OodVerdict, optional_score, validate_inferences

# The full answer's media type (python/scones/model/inference.py answers it).
PREDICTION_MEDIA_TYPE = "application/vnd.scones.prediction+json"
PLAIN_MEDIA_TYPE = "application/json"
# Several images in one call (the batch chunk): a JSON list of base64 images in, a list out of the full answer
# or `{"error", "message"}` per image (python/scones/model/inference.py BATCH_MEDIA_TYPE).
BATCH_MEDIA_TYPE = "application/vnd.scones.batch+json"


def parse_answer(value: Any, *, where: str) -> tuple[list[float], OodVerdict]:
    """(probabilities, verdict) of a parsed JSON answer; InvalidInferencesError for any other shape."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        value = value[0]
    if not isinstance(value, dict):
        return validate_inferences(value, where=where), NOT_CHECKED
    if "probabilities" not in value or "out_of_distribution" not in value:
        raise InvalidInferencesError(
            f"the answer for {where} is an object without probabilities/out_of_distribution: keys {sorted(value)}"
        )
    probabilities = validate_inferences(value["probabilities"], where=where)
    score = optional_score(value.get("in_distribution"), what="in_distribution", where=where)
    flagged = value["out_of_distribution"]
    if not isinstance(flagged, bool):
        raise InvalidInferencesError(f"out_of_distribution for {where} must be true or false, got {flagged!r}")
    # No score and no flag: an artifact without a fitted guard. A flag without a score (an input sanity check
    # failed before any score) is still the artifact's decision, so it counts as checked.
    return probabilities, OodVerdict(score=score, flagged=flagged, checked=score is not None or flagged)
