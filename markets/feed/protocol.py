"""Kalshi's WebSocket protocol as data: the commands we send and the frames we receive.

One connection carries every channel. A command is ``{"id", "cmd", "params"}``
with an id unique on the connection; the server answers ``subscribed`` (with
the subscription id, ``sid``, of one channel), ``ok``, ``unsubscribed`` or
``error`` (a numeric code, see ERROR_CODES), echoing the id. Data frames name
their ``type`` (``orderbook_snapshot``, ``orderbook_delta``, ``ticker``,
``trade``, ``fill``, ``user_order``, ``market_position``,
``market_lifecycle_v2``, ...), their ``sid`` and, on channels with an order,
``seq``: consecutive per subscription, the only way to notice a lost frame.

Pure: no Django, no sockets, no clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import orjson

WS_PATH = "/trade-api/ws/v2"  # signed in the handshake like a REST path


class Channel(StrEnum):
    ORDERBOOK = "orderbook_delta"
    TICKER = "ticker"
    TRADE = "trade"
    FILL = "fill"
    USER_ORDERS = "user_orders"
    POSITIONS = "market_positions"
    LIFECYCLE = "market_lifecycle_v2"


# Channels that take market tickers; the others (fills, orders, positions, lifecycle) cover the account
# or the exchange and are subscribed once per connection.
PER_MARKET = frozenset({Channel.ORDERBOOK, Channel.TICKER, Channel.TRADE})

# Channel errors the server calls terminal: the subscription is gone and must be made again.
TERMINAL_ERRORS = frozenset({10, 25})
ERROR_CODES = {
    1: "unable to process message",
    2: "params required",
    3: "channels required",
    4: "subscription ids required",
    5: "unknown command",
    7: "unknown subscription id",
    8: "unknown channel name",
    9: "authentication required",
    10: "channel error",
    11: "invalid parameter",
    12: "exactly one subscription id is required",
    13: "unsupported action",
    14: "market ticker required",
    15: "action required",
    18: "command timeout",
    25: "subscription buffer overflow",
    26: "subscription market limit exceeded",
    27: "too many requests",
}


class ProtocolError(ValueError):
    """A frame that is not JSON, or not the shape the protocol gives it."""


class Commands:
    """Builds commands with ids unique on one connection (start a new builder per connection)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def subscribe(self, channel: Channel, tickers: Sequence[str] = ()) -> dict[str, Any]:
        params: dict[str, Any] = {"channels": [channel.value]}
        if channel in PER_MARKET:
            if not tickers:
                raise ProtocolError(f"the {channel.value} channel needs market tickers")
            params["market_tickers"] = list(tickers)
        return self._command("subscribe", params)

    def add_markets(self, sid: int, tickers: Sequence[str]) -> dict[str, Any]:
        return self._update(sid, tickers, "add_markets")

    def delete_markets(self, sid: int, tickers: Sequence[str]) -> dict[str, Any]:
        return self._update(sid, tickers, "delete_markets")

    def get_snapshot(self, sid: int, tickers: Sequence[str]) -> dict[str, Any]:
        """An orderbook_snapshot of ``tickers`` on subscription ``sid``, which is left as it is."""
        return self._update(sid, tickers, "get_snapshot")

    def unsubscribe(self, sids: Iterable[int]) -> dict[str, Any]:
        return self._command("unsubscribe", {"sids": list(sids)})

    def _update(self, sid: int, tickers: Sequence[str], action: str) -> dict[str, Any]:
        if not tickers:
            raise ProtocolError(f"{action} needs market tickers")
        return self._command("update_subscription", {"sids": [sid], "market_tickers": list(tickers), "action": action})

    def _command(self, cmd: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": next(self._ids), "cmd": cmd, "params": params}


@dataclass(frozen=True, slots=True)
class Subscribed:
    command_id: int | None
    channel: str
    sid: int


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """``ok`` or ``unsubscribed``: a command took effect."""

    command_id: int | None
    sid: int | None


@dataclass(frozen=True, slots=True)
class Refused:
    command_id: int | None
    code: int
    message: str

    @property
    def terminal(self) -> bool:
        return self.code in TERMINAL_ERRORS

    def describe(self) -> str:
        known = ERROR_CODES.get(self.code, "unknown error code")
        return f"Kalshi WebSocket error {self.code} ({known}): {self.message}"


@dataclass(frozen=True, slots=True)
class Data:
    """A market-data or account frame: its type, subscription, sequence number (if any) and body."""

    type: str
    sid: int | None
    seq: int | None
    msg: Mapping[str, Any]


Frame = Subscribed | Acknowledged | Refused | Data


def parse_frame(raw: str | bytes) -> Frame:
    """One frame from the server, typed by its ``type``; ProtocolError names what is wrong."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"a WebSocket frame is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError(f"a WebSocket frame without a type: {str(raw)[:200]}")
    kind: str = data["type"]
    command_id = _optional_int(data, "id")
    msg = data.get("msg")
    if kind == "subscribed":
        body = _mapping(msg, kind)
        return Subscribed(command_id, str(body.get("channel", "")), _required_int(body, "sid", kind))
    if kind in ("ok", "unsubscribed"):
        return Acknowledged(command_id, _optional_int(data, "sid"))
    if kind == "error":
        body = _mapping(msg, kind)
        return Refused(command_id, _required_int(body, "code", kind), str(body.get("msg", "")))
    return Data(kind, _optional_int(data, "sid"), _optional_int(data, "seq"), _mapping(msg, kind))


def ws_path(url: str) -> str:
    """The path of a WebSocket URL (what the handshake signs); ValueError unless it is ws(s)://host/path."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname or not parts.path:
        raise ValueError(f"a Kalshi WebSocket URL is ws(s)://host/path, got {url!r}")
    return parts.path


def ms_text(ms: int) -> str:
    """A frame's ``ts_ms`` (Unix milliseconds) as RFC 3339 UTC text, the form REST payloads carry."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def encode(command: Mapping[str, Any]) -> str:
    return orjson.dumps(command).decode()


def _mapping(value: object, kind: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"a {kind} frame without a msg object")
    return value


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{key} must be an integer, got {value!r}")
    return value


def _required_int(data: Mapping[str, Any], key: str, kind: str) -> int:
    value = _optional_int(data, key)
    if value is None:
        raise ProtocolError(f"a {kind} frame without {key}")
    return value
