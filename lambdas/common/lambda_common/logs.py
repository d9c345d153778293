"""Structured logs: one JSON object per line on stdout, filtered by the function's LOG_LEVEL.

CloudWatch Logs Insights parses each line's fields. LOG_LEVEL (DEBUG, INFO, WARNING or ERROR;
INFO when unset) is validated by Terraform; a value outside that set is a ConfigurationError, so a
typo cannot silently drop every error line.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from lambda_common.errors import ConfigurationError

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}
DEFAULT_LEVEL = "INFO"


def _level_name() -> str:
    return (os.environ.get("LOG_LEVEL") or DEFAULT_LEVEL).strip().upper()


def configured_level() -> str:
    """LOG_LEVEL, validated (the handler calls this first, so a bad value fails loudly)."""
    level = _level_name()
    if level not in LEVELS:
        raise ConfigurationError(f"LOG_LEVEL={os.environ.get('LOG_LEVEL')!r} must be one of {', '.join(LEVELS)}")
    return level


def write_line(fields: dict[str, Any]) -> None:
    """Print one JSON line, whatever the level (metrics use it: they are not logs)."""
    print(json.dumps(fields, default=str, separators=(",", ":")), file=sys.stdout, flush=True)


def log(level: str, **fields: Any) -> None:
    """Log `fields` with a `level` field, if `level` is at or above LOG_LEVEL."""
    # An invalid LOG_LEVEL logs at INFO: the ConfigurationError it causes must itself be logged.
    threshold = LEVELS.get(_level_name(), LEVELS[DEFAULT_LEVEL])
    if LEVELS[level] >= threshold:
        write_line({"level": level, **fields})
