"""The README's cost figures add up: every row's arithmetic gives the amount it states, every total is the
sum of its table's rows, and every inline `a × b = $c` is right. The prices themselves carry their date and
sources in the text; the counts they are multiplied by are checked against the planned stacks in
tests/terraform/test_costs.py."""

from __future__ import annotations

import ast
import operator
import re
from decimal import Decimal
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README[README.index("### What it costs\n") : README.index("### Tear it down\n")]

# Numbers (a "$" before, thousands commas inside), the operators the README writes, parentheses. Everything
# else (units, words, "GB-s") is read as a space.
_NUMBER = re.compile(r"\$?(\d[\d,]*(?:\.\d+)?)")
_OPERATORS = {"×": "*", "÷": "/", "+": "+", "(": "(", ")": ")"}
_BINARY = {ast.Mult: operator.mul, ast.Div: operator.truediv, ast.Add: operator.add}


def evaluate(arithmetic: str) -> float:
    """The value of a README arithmetic cell, e.g. `1000 × (0.05 × 0.25 + 0.01) × $0.0000166667`."""
    tokens: list[str] = []
    position = 0
    while position < len(arithmetic):
        number = _NUMBER.match(arithmetic, position)
        if number:
            tokens.append(number.group(1).replace(",", ""))
            position = number.end()
            continue
        tokens.append(_OPERATORS.get(arithmetic[position], " "))
        position += 1
    expression = "".join(tokens).split()
    tree = ast.parse(" ".join(expression), mode="eval")

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        raise ValueError(f"not README arithmetic: {arithmetic!r}")

    return value(tree)


def matches(computed: float, stated: str) -> bool:
    """`stated` ("$2.76", "$0.00048") is `computed` rounded to the digits it shows."""
    amount = Decimal(stated.lstrip("$"))
    half_unit = Decimal(1).scaleb(amount.as_tuple().exponent) / 2
    return abs(Decimal(repr(computed)) - amount) <= half_unit


def tables() -> dict[str, list[list[str]]]:
    """Each cost table of the section by its first header cell, its rows as cells (header and rule left out)."""
    found: dict[str, list[list[str]]] = {}
    for block in re.findall(r"((?:^\|.*\|\n)+)", SECTION, re.MULTILINE):
        header, _rule, *rows = block.splitlines()
        found[header.split("|")[1].strip()] = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    return found


def test_the_section_has_the_daily_and_per_image_tables() -> None:
    assert set(tables()) == {
        "dev",
        "prod",
        "one execution per image (`scones invoke`, S3 uploads)",
        "a batch (`scones batch`: Express child workflows)",
    }
    assert re.search(r"list prices for us-east-1, recorded on \d{4}-\d{2}-\d{2}", SECTION), "the prices' date"
    assert SECTION.count("https://aws.amazon.com/") >= 5, "the prices' sources"


ROWS = [
    pytest.param(name, cells, id=f"{name[:20]}: {cells[0][:40]}")
    for name, rows in tables().items()
    for cells in rows
    if not cells[0].startswith("**total**")
]


@pytest.mark.parametrize(("table", "cells"), ROWS)
def test_every_row_s_arithmetic_gives_its_amount(table: str, cells: list[str]) -> None:
    _label, arithmetic, amount = cells
    assert matches(evaluate(arithmetic), amount), f"{table}: {arithmetic} = {evaluate(arithmetic)}, not {amount}"


@pytest.mark.parametrize("table", list(tables()))
def test_every_total_is_the_sum_of_its_rows(table: str) -> None:
    *rows, total = tables()[table]
    assert total[0] == "**total**"
    computed = sum(evaluate(cells[2]) for cells in rows)
    assert matches(computed, total[2]), f"{table}: the rows add up to {computed}, not {total[2]}"


# `<number> [units] × ... <number> [units] = $<amount>` in the section's prose.
_INLINE = re.compile(r"((?:\$?\d[\d,.]*[\w\s-]*?[×÷+]\s*)+\$?\d[\d,.]*(?:\s+[a-zA-Z][\w-]*)*)\s*=\s*(\$\d[\d.]*)")
INLINE = _INLINE.findall(SECTION)


def test_the_inline_sums_are_found() -> None:
    # The training job's cost and the Standard-children comparison, at least.
    assert len(INLINE) >= 2


@pytest.mark.parametrize(("arithmetic", "amount"), INLINE, ids=[a for a, _ in INLINE])
def test_every_inline_sum_is_right(arithmetic: str, amount: str) -> None:
    assert matches(evaluate(arithmetic), amount), f"{arithmetic} = {evaluate(arithmetic)}, not {amount}"


@pytest.mark.parametrize(
    ("arithmetic", "value"),
    [("1 × 24 h × $0.115", 2.76), ("3000 × $0.20 ÷ 1000000", 0.0006), ("(0.5 + 0.25) × 1,000", 750.0)],
)
def test_evaluate_reads_the_readme_s_notation(arithmetic: str, value: float) -> None:
    assert evaluate(arithmetic) == pytest.approx(value)


def test_a_wrong_amount_does_not_match() -> None:
    assert matches(2.76, "$2.76") and matches(0.0004791, "$0.00048")
    assert not matches(2.76, "$2.77") and not matches(0.2025, "$0.21")
