"""Named errors of the monitor."""

from __future__ import annotations


class CorruptCaptureRecordError(ValueError):
    """A captured line is not a usable SageMaker data-capture record; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CaptureSourceError(RuntimeError):
    """The capture source (folder or S3 location) cannot be read at all."""
