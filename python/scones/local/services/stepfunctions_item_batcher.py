"""Step Functions `ItemBatcher` of a Distributed Map, which moto's grammar does not know.

"ItemBatcher (Map)" (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html):
with batching, each child workflow execution gets `{"Items": [...]}`, the items (each after ItemSelector) of
its batch, and, when the ItemBatcher has a `BatchInput`, `{"Items": [...], "BatchInput": {...}}`.
`MaxItemsPerBatch` caps the items of a batch, `MaxInputBytesPerBatch` (at most 256 KiB, a state's payload)
its size; with both, a batch ends at whichever is reached first, and the last batch holds what is left.

Here the Map state's ItemBatcher is taken out of the definition before moto parses it and put back on the
parsed Map's item processor (`attach`); stepfunctions_distributed_map groups the items (`batches`) and builds
each child's input (`child_input`). Items are counted, and a failed child fails all the items of its batch:
DescribeMapRun's itemCounts count items and its executionCounts count child executions, and the tolerated
failure threshold is "the total number of failed or timed out items divided by the total number of items"
("Tolerated failure threshold for Distributed Map state",
https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).

Not emulated (a definition using them is refused, not run differently): `MaxItemsPerBatchPath`,
`MaxInputBytesPerBatchPath`, and `.$` paths inside `BatchInput`. A batch's bytes are measured on the items as
the ItemReader read them (before ItemSelector), which for an S3 listing is within a few bytes of the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# MaxInputBytesPerBatch's ceiling: a child's input is one state payload.
MAX_BATCH_BYTES = 256 * 1024
_FIELDS = {"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}


class ItemBatcherDefinitionError(ValueError):
    """An ItemBatcher this emulator does not run (or AWS would not accept)."""


@dataclass(frozen=True)
class ItemBatcher:
    max_items: int | None
    max_bytes: int | None
    batch_input: dict[str, Any] | None

    @classmethod
    def from_definition(cls, state_name: str, value: Any) -> ItemBatcher:
        if not isinstance(value, dict):
            raise ItemBatcherDefinitionError(f"{state_name}: ItemBatcher must be an object")
        unknown = set(value) - _FIELDS
        if unknown:
            raise ItemBatcherDefinitionError(
                f"{state_name}: ItemBatcher fields {sorted(unknown)} are not supported by the emulator "
                f"(it runs {sorted(_FIELDS)})"
            )
        max_items = _whole(state_name, value, "MaxItemsPerBatch", 1, None)
        max_bytes = _whole(state_name, value, "MaxInputBytesPerBatch", 1, MAX_BATCH_BYTES)
        if max_items is None and max_bytes is None:
            raise ItemBatcherDefinitionError(
                f"{state_name}: ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch"
            )
        batch_input = value.get("BatchInput")
        if batch_input is not None:
            if not isinstance(batch_input, dict):
                raise ItemBatcherDefinitionError(f"{state_name}: BatchInput must be an object")
            if any(str(key).endswith(".$") for key in _keys(batch_input)):
                raise ItemBatcherDefinitionError(
                    f"{state_name}: paths (.$ keys) in BatchInput are not supported by the emulator"
                )
        return cls(max_items, max_bytes, batch_input)

    def batches(self, items: list[Any]) -> list[list[Any]]:
        """The items in batches of at most max_items and max_bytes (an item over max_bytes alone in its own)."""
        grouped: list[list[Any]] = []
        current: list[Any] = []
        size = len(json.dumps(self.child_input([]), separators=(",", ":")))
        empty = size
        for item in items:
            item_size = len(json.dumps(item, separators=(",", ":"))) + 1  # its comma
            full = self.max_items is not None and len(current) >= self.max_items
            too_big = self.max_bytes is not None and current and size + item_size > self.max_bytes
            if full or too_big:
                grouped.append(current)
                current, size = [], empty
            current.append(item)
            size += item_size
        if current:
            grouped.append(current)
        return grouped

    def child_input(self, selected_items: list[Any]) -> dict[str, Any]:
        """A child execution's input: the batch's items (after ItemSelector), with BatchInput if any."""
        child: dict[str, Any] = {"Items": selected_items}
        if self.batch_input is not None:
            child["BatchInput"] = json.loads(json.dumps(self.batch_input))  # each child its own copy
        return child


def _whole(state_name: str, value: dict[str, Any], field: str, low: int, high: int | None) -> int | None:
    number = value.get(field)
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int) or number < low or (high and number > high):
        limit = f"from {low} to {high}" if high else f"at least {low}"
        raise ItemBatcherDefinitionError(f"{state_name}: {field} must be a whole number {limit}, got {number!r}")
    return number


def _keys(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


# -- Taken out before parsing, put back after ----------------------------------------------------------


def take_out(machine: dict[str, Any]) -> dict[str, Any]:
    """{path of Map state names: ItemBatcher} of the machine's Map states (nested ones too), each removed
    from `machine` in place so that moto's grammar accepts the rest. A path is a tuple of state names."""
    found: dict[Any, ItemBatcher] = {}
    _take_out(machine, (), found)
    return found


def _take_out(machine: Any, path: tuple[str, ...], found: dict[Any, ItemBatcher]) -> None:
    states = machine.get("States") if isinstance(machine, dict) else None
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict) or state.get("Type") != "Map":
            continue
        here = (*path, name)
        if "ItemBatcher" in state:
            mode = (state.get("ItemProcessor") or {}).get("ProcessorConfig", {}).get("Mode")
            if mode != "DISTRIBUTED":
                raise ItemBatcherDefinitionError(f"{name}: ItemBatcher needs a Map in DISTRIBUTED mode")
            found[here] = ItemBatcher.from_definition(name, state.pop("ItemBatcher"))
        _take_out(state.get("ItemProcessor") or state.get("Iterator"), here, found)


def attach(program: Any, batchers: dict[Any, ItemBatcher]) -> None:
    """Put each ItemBatcher on the parsed Map state's item processor (`scones_item_batcher`)."""
    for path, batcher in batchers.items():
        states = program.states.states
        state = None
        for name in path:
            state = states[name]
            states = getattr(state.iteration_component, "_states", None)
            states = getattr(states, "states", {})
        state.iteration_component.scones_item_batcher = batcher  # type: ignore[union-attr]


def of(iteration_component: Any) -> ItemBatcher | None:
    return getattr(iteration_component, "scones_item_batcher", None)
