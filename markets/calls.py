"""Descriptions of Kalshi requests, separate from sending them.

An endpoint function (see :mod:`markets.endpoints`) returns a :class:`Query`
(a GET), a :class:`Command` (anything that changes state) or a
:class:`Paged` list, each carrying its own parser. The sync and async clients
only know how to execute these, so every endpoint is written once, and the
contract tests can check each description against Kalshi's OpenAPI spec
without sending anything.

Pure module with no Django imports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from markets.ratelimit import RequestClass

T = TypeVar("T")
QueryValue = str | int | bool | Sequence[str]
Parser = Callable[[Any], T]


def _path(template: str, path_params: Mapping[str, str]) -> str:
    # Tickers are [A-Z0-9.-]; quote anyway so an odd id can never change the path's shape.
    return template.format_map({name: quote(value, safe="") for name, value in path_params.items()})


@dataclass(frozen=True, slots=True)
class Query(Generic[T]):
    """A GET: safe to retry, and sent in every trading mode."""

    template: str
    parse: Parser[T]
    path_params: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, QueryValue] = field(default_factory=dict)
    auth: bool = False
    cost: float = 1.0
    method: Literal["GET"] = "GET"
    kind: RequestClass = RequestClass.READ

    @property
    def path(self) -> str:
        """The path below the base URL, e.g. ``/markets/KXHIGHNY-25FEB28-B44.5``."""
        return _path(self.template, self.path_params)


@dataclass(frozen=True, slots=True)
class Command(Generic[T]):
    """A request that changes state: never retried, and never sent in DRY mode."""

    method: Literal["POST", "PUT", "DELETE"]
    template: str
    parse: Parser[T]
    path_params: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, QueryValue] = field(default_factory=dict)
    body: Mapping[str, object] | None = None
    auth: bool = True
    cost: float = 1.0
    kind: RequestClass = RequestClass.WRITE
    client_order_id: str | None = None

    @property
    def path(self) -> str:
        return _path(self.template, self.path_params)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; ``cursor`` is empty on the last page."""

    items: tuple[T, ...]
    cursor: str


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    """A cursor-paginated list endpoint: the query for its pages and the largest page it allows."""

    query: Query[Page[T]]
    max_page_size: int

    def page(self, *, limit: int, cursor: str = "") -> Query[Page[T]]:
        """The query for one page of at most ``limit`` items, starting at ``cursor``."""
        params = dict(self.query.params)
        params["limit"] = limit
        if cursor:
            params["cursor"] = cursor
        return replace(self.query, params=params)

    def clamp(self, page_size: int) -> int:
        """``page_size`` within 1 and this endpoint's documented maximum."""
        return max(1, min(page_size, self.max_page_size))


@dataclass(frozen=True, slots=True)
class DryRunResult:
    """What a mutating call returns in DRY mode instead of sending anything."""

    method: str
    path: str
    body: Mapping[str, object] | None
    client_order_id: str | None = None
    message: str = "DRY mode: not sent to Kalshi"
    dry_run: Literal[True] = True


def unix_seconds(moment: datetime, *, name: str) -> int:
    """An aware datetime as the Unix seconds Kalshi's query filters take."""
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {moment.isoformat()}")
    return int(moment.timestamp())


def compact(params: Mapping[str, QueryValue | datetime | None]) -> dict[str, QueryValue]:
    """Query parameters without the unset ones, with datetimes as Unix seconds."""
    result: dict[str, QueryValue] = {}
    for name, value in params.items():
        if value is None:
            continue
        result[name] = unix_seconds(value, name=name) if isinstance(value, datetime) else value
    return result
