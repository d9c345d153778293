"""CloudWatch metric math for alarms: a small parser and evaluator over time series (no eval).

What is supported, as "Using math expressions with CloudWatch metrics" describes it
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
numbers, query ids, arithmetic `+ - * / ^` and unary minus, comparisons `== != < <= > >=`
(1 or 0), logical `AND`/`&&`, `OR`/`||`, `NOT`/`!`, and the functions `FILL(m, value)`,
`IF(condition, a[, b])` and `ABS(m)`. Anything else is an `ExpressionError` naming what is not
supported, so an alarm that uses it says so instead of evaluating to something made up.

Time series are aligned by timestamp: an operation between two series has a value only where
both have one, and between a series and a number at every point of the series (the page's
"Metric math syntax and functions"). A point that is not a finite number (x/0) is dropped.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

Series = dict[datetime, float]
Value = float | Series

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^()<>,!]))"
)


class ExpressionError(ValueError):
    """An expression that cannot be parsed or uses what the emulator does not support."""


# -- parsing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


Node = Number | Ref | Unary | Binary | Call

# Lowest first; each level is left-associative except `^`.
_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"OR", "||"}),
    frozenset({"AND", "&&"}),
)
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"unexpected character {text[pos:].strip()[:1]!r} in {text!r}")
        tokens.append(match.group(match.lastgroup or "op"))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = _tokenize(text)
        self._pos = 0

    def parse(self) -> Node:
        if not self._tokens:
            raise ExpressionError("empty expression")
        node = self._logical(0)
        if self._pos != len(self._tokens):
            raise ExpressionError(f"unexpected {self._tokens[self._pos]!r} in {self._text!r}")
        return node

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise ExpressionError(f"expected {expected or 'more'} in {self._text!r}")
        self._pos += 1
        return token

    def _upper_peek(self) -> str | None:
        token = self._peek()
        return token.upper() if token is not None else None

    def _logical(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self._not()
        node = self._logical(level + 1)
        while self._upper_peek() in _LEVELS[level]:
            op = "OR" if level == 0 else "AND"
            self._take()
            node = Binary(op, node, self._logical(level + 1))
        return node

    def _not(self) -> Node:
        if self._upper_peek() in ("NOT", "!"):
            self._take()
            return Unary("NOT", self._not())
        return self._comparison()

    def _comparison(self) -> Node:
        node = self._additive()
        while self._peek() in _COMPARISONS:
            op = self._take()
            node = Binary(op, node, self._additive())
        return node

    def _additive(self) -> Node:
        node = self._multiplicative()
        while self._peek() in ("+", "-"):
            op = self._take()
            node = Binary(op, node, self._multiplicative())
        return node

    def _multiplicative(self) -> Node:
        node = self._unary()
        while self._peek() in ("*", "/"):
            op = self._take()
            node = Binary(op, node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._peek() == "-":
            self._take()
            return Unary("-", self._unary())
        if self._peek() == "+":
            self._take()
            return self._unary()
        return self._power()

    def _power(self) -> Node:
        base = self._atom()
        if self._peek() == "^":
            self._take()
            return Binary("^", base, self._unary())
        return base

    def _atom(self) -> Node:
        token = self._take()
        if token == "(":
            node = self._logical(0)
            self._take(")")
            return node
        if token[0].isdigit() or token[0] == ".":
            return Number(float(token))
        if token[0].isalpha() or token[0] == "_":
            if self._peek() == "(":
                self._take("(")
                args: list[Node] = []
                if self._peek() != ")":
                    args.append(self._logical(0))
                    while self._peek() == ",":
                        self._take(",")
                        args.append(self._logical(0))
                self._take(")")
                return Call(token.upper(), tuple(args))
            return Ref(token)
        raise ExpressionError(f"unexpected {token!r} in {self._text!r}")


def parse(text: str) -> Node:
    """The syntax tree of a metric math expression; `ExpressionError` when it is not valid."""
    return _Parser(text).parse()


def references(node: Node) -> set[str]:
    """The query ids an expression reads."""
    if isinstance(node, Ref):
        return {node.name}
    if isinstance(node, Unary):
        return references(node.operand)
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    if isinstance(node, Call):
        return set().union(*(references(a) for a in node.args)) if node.args else set()
    return set()


# -- evaluation -------------------------------------------------------------------------------

_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b != 0 else math.nan,
    "^": lambda a, b: _power(a, b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "AND": lambda a, b: float(bool(a) and bool(b)),
    "OR": lambda a, b: float(bool(a) or bool(b)),
}


def _power(a: float, b: float) -> float:
    try:
        result = a**b
    except (OverflowError, ZeroDivisionError):
        return math.nan
    return result if isinstance(result, float | int) else math.nan


def _finite(series: Mapping[datetime, float]) -> Series:
    return {t: v for t, v in series.items() if math.isfinite(v)}


def _apply(op: Callable[[float, float], float], left: Value, right: Value) -> Value:
    if isinstance(left, dict) and isinstance(right, dict):
        return _finite({t: op(v, right[t]) for t, v in left.items() if t in right})
    if isinstance(left, dict):
        assert not isinstance(right, dict)
        return _finite({t: op(v, right) for t, v in left.items()})
    if isinstance(right, dict):
        return _finite({t: op(left, v) for t, v in right.items()})
    return op(left, right)


@dataclass(frozen=True)
class Context:
    """What an expression is evaluated against: the queries' series and the alarm's periods."""

    series: Mapping[str, Series]
    timestamps: Sequence[datetime]  # every period start of the evaluation range, oldest first


def evaluate(node: Node, context: Context) -> Value:
    """The value (a number or a time series) of a parsed expression."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        if node.name not in context.series:
            raise ExpressionError(f"unknown query id {node.name!r}")
        return dict(context.series[node.name])
    if isinstance(node, Unary):
        operand = evaluate(node.operand, context)
        negate: Callable[[float], float] = (lambda v: -v) if node.op == "-" else (lambda v: float(not v))
        return {t: negate(v) for t, v in operand.items()} if isinstance(operand, dict) else negate(operand)
    if isinstance(node, Binary):
        return _apply(_BINARY[node.op], evaluate(node.left, context), evaluate(node.right, context))
    return _call(node, context)


def _call(node: Call, context: Context) -> Value:
    args = [evaluate(a, context) for a in node.args]
    if node.function == "FILL":
        return _fill(args, context)
    if node.function == "IF":
        return _if(args)
    if node.function == "ABS" and len(args) == 1:
        value = args[0]
        return {t: abs(v) for t, v in value.items()} if isinstance(value, dict) else abs(value)
    raise ExpressionError(f"function {node.function}() with {len(args)} arguments is not supported by the emulator")


def _fill(args: list[Value], context: Context) -> Value:
    # FILL(m, value): every period of the range without a value gets `value` (REPEAT and LINEAR
    # are not supported). A period of the range is one the alarm evaluates.
    if len(args) != 2 or not isinstance(args[1], float | int):
        raise ExpressionError("FILL() is supported as FILL(metric, number)")
    series, filler = args
    if not isinstance(series, dict):
        return series
    return {t: series.get(t, float(filler)) for t in context.timestamps} | series


def _if(args: list[Value]) -> Value:
    # IF(condition, trueValue[, falseValue]): per timestamp of the condition; where the chosen
    # branch has no value, or the condition is false and there is no falseValue, no point.
    if len(args) not in (2, 3):
        raise ExpressionError("IF() takes a condition, a true value and an optional false value")
    condition, when_true = args[0], args[1]
    when_false: Value | None = args[2] if len(args) == 3 else None

    def pick(flag: float, at: datetime | None) -> float | None:
        chosen = when_true if flag else when_false
        if chosen is None:
            return None
        if isinstance(chosen, dict):
            return chosen.get(at) if at is not None else None
        return float(chosen)

    if not isinstance(condition, dict):
        if not any(isinstance(a, dict) for a in args[1:]):
            picked = pick(condition, None)
            return math.nan if picked is None else picked
        # A constant condition picks a whole branch.
        chosen = when_true if condition else when_false
        return {} if chosen is None else chosen
    result: Series = {}
    for at, flag in condition.items():
        picked = pick(flag, at)
        if picked is not None:
            result[at] = picked
    return _finite(result)
