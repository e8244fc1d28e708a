"""Helpers shared by the endpoint modules: page parsers and chunking."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from markets.calls import Page
from markets.schemas.reader import Reader

T = TypeVar("T")


def page_of(key: str, parse_item: Callable[[Any], T], *, kind: str) -> Callable[[Any], Page[T]]:
    """A parser for ``{<key>: [...], cursor: "..."}`` list responses."""

    def parse(data: Any) -> Page[T]:
        r = Reader(data, kind)
        return Page(items=tuple(parse_item(item) for item in r.array(key)), cursor=r.opt_text("cursor"))

    return parse


def items_of(key: str, parse_item: Callable[[Any], T], *, kind: str) -> Callable[[Any], tuple[T, ...]]:
    """A parser for ``{<key>: [...]}`` responses that are not paginated."""

    def parse(data: Any) -> tuple[T, ...]:
        return tuple(parse_item(item) for item in Reader(data, kind).array(key))

    return parse


def chunks(values: Sequence[str], size: int, *, what: str) -> Iterator[Sequence[str]]:
    """``values`` in slices of at most ``size`` (the endpoint's documented maximum)."""
    if not values:
        raise ValueError(f"at least one {what} is required")
    for start in range(0, len(values), size):
        yield values[start : start + size]


def joined(values: Sequence[str] | str | None) -> str | None:
    """A comma-separated list parameter (``tickers=A,B``); a plain string passes through."""
    if values is None or isinstance(values, str):
        return values
    return ",".join(values)
