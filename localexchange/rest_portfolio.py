"""The local exchange's account reads and order groups, in Kalshi's shapes (see localexchange.rest).

Paths (under /trade-api/v2):

- GET    /portfolio/orders, /portfolio/fills, /portfolio/positions, /portfolio/settlements
- GET    /historical/cutoff (public), /historical/fills, /historical/orders
- GET    /exchange/status (public): trading active unless the exchange's ``trading_active`` is set False
- GET    /portfolio/order_groups, POST /portfolio/order_groups/create
- GET    /portfolio/order_groups/{id}, DELETE /portfolio/order_groups/{id}
- PUT    /portfolio/order_groups/{id}/reset, /trigger, /limit

Lists are newest first and cursor-paginated (``limit`` 1 to 1000, default
100; ``cursor`` is empty on the last page). Fills before the exchange's
historical cutoff, and orders canceled or executed before it, are listed only
under /historical, as Kalshi does. ``min_ts``/``max_ts`` (Unix seconds,
inclusive) filter orders by creation, fills by execution, settlements by
settlement time.

Every handler takes the member, the request's arguments (a GET's query
parameters, or a body) and the path's parameters; it answers (status, JSON).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from localexchange.exchange import FillRecord, OrderRecord, SettlementRecord
from localexchange.matching import ONE, ZERO, OrderRefused
from localexchange.ws import LocalFeed
from markets.schemas.enums import BookSide
from markets.schemas.orders import fixed_count, fixed_price

Reply = tuple[int, dict[str, Any]]
Handler = Callable[..., Awaitable[Reply]]
DEFAULT_PAGE, MAX_PAGE = 100, 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
T = TypeVar("T")


class Refused(Exception):
    """An error answer: HTTP status and Kalshi's ErrorResponse code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class PortfolioRoutes:
    """The handlers, over a feed's exchange; ``routes`` lists (method, path pattern, handler)."""

    def __init__(self, feed: LocalFeed, clock: Callable[[], float]) -> None:
        self.feed = feed
        self._clock = clock
        group = r"/portfolio/order_groups/(?P<group_id>[^/]+)"
        self.routes: list[tuple[str, str, Handler]] = [
            ("GET", r"/portfolio/orders", self._orders),
            ("GET", r"/portfolio/fills", self._fills),
            ("GET", r"/portfolio/positions", self._positions),
            ("GET", r"/portfolio/settlements", self._settlements),
            ("GET", r"/historical/cutoff", self._cutoff),
            ("GET", r"/exchange/status", self._status),
            ("GET", r"/historical/fills", self._historical_fills),
            ("GET", r"/historical/orders", self._historical_orders),
            ("GET", r"/portfolio/order_groups", self._groups),
            ("POST", r"/portfolio/order_groups/create", self._create_group),
            ("GET", group, self._group),
            ("DELETE", group, self._delete_group),
            ("PUT", group + "/reset", self._reset_group),
            ("PUT", group + "/trigger", self._trigger_group),
            ("PUT", group + "/limit", self._limit_group),
        ]

    @property
    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), tz=UTC)

    # Orders and fills -------------------------------------------------------------------------

    async def _orders(self, member: str, args: dict[str, Any]) -> Reply:
        return 200, self._order_page(member, args, historical=False)

    async def _historical_orders(self, member: str, args: dict[str, Any]) -> Reply:
        return 200, self._order_page(member, args, historical=True)

    def _order_page(self, member: str, args: dict[str, Any], *, historical: bool) -> dict[str, Any]:
        exchange = self.feed.exchange
        events = set(args["event_ticker"].split(",")) if args.get("event_ticker") else None
        status = args.get("status")
        records = [
            (int(record.order_id.removeprefix("ord-")), record)
            for record in exchange.orders_of(member, historical=historical)
            if _matches(args, record.ticker, record.created)
            and (events is None or exchange.markets[record.ticker].event_ticker in events)
            and (not status or record.status == status)
        ]
        return page(args, "orders", records, order_json)

    async def _fills(self, member: str, args: dict[str, Any]) -> Reply:
        return 200, self._fill_page(member, args, historical=False)

    async def _historical_fills(self, member: str, args: dict[str, Any]) -> Reply:
        return 200, self._fill_page(member, args, historical=True)

    def _fill_page(self, member: str, args: dict[str, Any], *, historical: bool) -> dict[str, Any]:
        order_id = args.get("order_id")
        fills = [
            (int(fill.trade_id.removeprefix("trd-")), fill)
            for fill in self.feed.exchange.fills_of(member, historical=historical)
            if _matches(args, fill.ticker, fill.at) and (not order_id or fill.order_id == order_id)
        ]
        return page(args, "fills", fills, fill_json)

    async def _status(self, member: str, args: dict[str, Any]) -> Reply:
        return 200, {"exchange_active": True, "trading_active": self.feed.exchange.trading_active}

    async def _cutoff(self, member: str, args: dict[str, Any]) -> Reply:
        cutoff = _iso(self.feed.exchange.historical_cutoff or EPOCH)
        return 200, {
            "market_settled_ts": cutoff,
            "trades_created_ts": cutoff,
            "orders_updated_ts": cutoff,
            "market_positions_last_updated_ts": cutoff,
        }

    # Positions and settlements ----------------------------------------------------------------

    async def _positions(self, member: str, args: dict[str, Any]) -> Reply:
        exchange = self.feed.exchange
        account = exchange.member(member)
        filters = set(args["count_filter"].split(",")) if args.get("count_filter") else set()
        rows: list[dict[str, Any]] = []
        events: dict[str, dict[str, Decimal]] = {}
        for ticker in sorted(account.positions):
            position, traded = account.positions[ticker], account.traded.get(ticker, ZERO)
            event = exchange.markets[ticker].event_ticker
            if args.get("ticker") not in (None, "", ticker) or args.get("event_ticker") not in (None, "", event):
                continue
            if ("position" in filters and not position.yes - position.no) or ("total_traded" in filters and not traded):
                continue
            updated = account.updated.get(ticker, EPOCH)
            rows.append(
                {
                    "ticker": ticker,
                    "exchange_index": 0,
                    "position_fp": fixed_count(position.yes - position.no),
                    "total_traded_dollars": fixed_price(traded),
                    "market_exposure_dollars": fixed_price(position.cost),
                    "realized_pnl_dollars": fixed_price(position.realized),
                    "fees_paid_dollars": fixed_price(position.fees),
                    "last_updated_ts": _iso(updated),
                }
            )
            totals = events.setdefault(event, dict.fromkeys(("cost", "shares", "exposure", "realized", "fees"), ZERO))
            totals["cost"] += traded
            totals["shares"] += account.contracts.get(ticker, ZERO)
            totals["exposure"] += position.cost
            totals["realized"] += position.realized
            totals["fees"] += position.fees
        start = _offset(args)
        end = start + _limit(args)
        return 200, {
            "market_positions": rows[start:end],
            "event_positions": [_event_json(event, totals) for event, totals in events.items()] if not start else [],
            "cursor": str(end) if end < len(rows) else "",
        }

    async def _settlements(self, member: str, args: dict[str, Any]) -> Reply:
        exchange = self.feed.exchange
        rows = [
            (index, row)
            for index, row in reversed(list(enumerate(exchange.settlements)))
            if row.member == member
            and _matches(args, row.ticker, row.at)
            and args.get("event_ticker") in (None, "", row.event_ticker)
        ]
        return 200, page(args, "settlements", rows, settlement_json)

    # Order groups -------------------------------------------------------------------------------

    async def _groups(self, member: str, args: dict[str, Any]) -> Reply:
        groups = [group for group in self.feed.exchange.groups.values() if group.member == member]
        return 200, {
            "order_groups": [
                {"id": group.group_id, "is_auto_cancel_enabled": True, "exchange_index": 0} | _limit_json(group.limit)
                for group in groups
            ]
        }

    async def _group(self, member: str, args: dict[str, Any], group_id: str) -> Reply:
        group = self._refusing(lambda: self.feed.exchange.order_group(member, group_id))
        reply = {"is_auto_cancel_enabled": True, "orders": list(group.order_ids), "exchange_index": 0}
        return 200, reply | _limit_json(group.limit)

    async def _create_group(self, member: str, args: dict[str, Any]) -> Reply:
        limit = _contracts_limit(args)
        group_id = self._refusing(lambda: self.feed.exchange.create_order_group(member, limit))
        return 201, {"order_group_id": group_id, "subaccount": 0, "exchange_index": 0}

    async def _reset_group(self, member: str, args: dict[str, Any], group_id: str) -> Reply:
        self._refusing(lambda: self.feed.exchange.reset_order_group(member, group_id))
        return 200, {}

    async def _trigger_group(self, member: str, args: dict[str, Any], group_id: str) -> Reply:
        at = self._now
        changes = self._refusing(lambda: self.feed.exchange.trigger_order_group(member, group_id, at=at))
        await self.feed.publish_cancels(changes, at=at)
        return 200, {}

    async def _limit_group(self, member: str, args: dict[str, Any], group_id: str) -> Reply:
        limit, at = _contracts_limit(args), self._now
        if limit is None:
            raise Refused(400, "invalid_parameters", "give contracts_limit_fp or contracts_limit")
        changes = self._refusing(lambda: self.feed.exchange.set_order_group_limit(member, group_id, limit, at=at))
        await self.feed.publish_cancels(changes, at=at)
        return 200, {}

    async def _delete_group(self, member: str, args: dict[str, Any], group_id: str) -> Reply:
        at = self._now
        changes = self._refusing(lambda: self.feed.exchange.delete_order_group(member, group_id, at=at))
        await self.feed.publish_cancels(changes, at=at)
        return 200, {}

    @staticmethod
    def _refusing(action: Callable[[], T]) -> T:
        try:
            return action()
        except OrderRefused as refused:
            status = 404 if refused.code.endswith("not_found") else 400
            raise Refused(status, refused.code, str(refused)) from None


# Shapes ---------------------------------------------------------------------------------------


def order_json(record: OrderRecord) -> dict[str, Any]:
    """An Order as GET /portfolio/orders and /portfolio/orders/{id} show it."""
    reply: dict[str, Any] = {
        "order_id": record.order_id,
        "user_id": record.member,
        "client_order_id": record.client_order_id,
        "ticker": record.ticker,
        "book_side": record.side.value,
        "outcome_side": _outcome(record.side),
        "type": "limit",
        "status": record.status,
        "yes_price_dollars": fixed_price(record.price),
        "no_price_dollars": fixed_price(ONE - record.price),
        "fill_count_fp": fixed_count(record.filled),
        "remaining_count_fp": fixed_count(record.remaining),
        "initial_count_fp": fixed_count(record.initial),
        "taker_fees_dollars": fixed_price(record.taker_fees),
        "maker_fees_dollars": fixed_price(record.maker_fees),
        "taker_fill_cost_dollars": fixed_price(record.taker_cost),
        "maker_fill_cost_dollars": fixed_price(record.maker_cost),
        "created_time": _iso(record.created),
        "exchange_index": 0,
    }
    if record.order_group_id is not None:
        reply["order_group_id"] = record.order_group_id
    if record.updated is not None:
        reply["last_update_time"] = _iso(record.updated)
    return reply


def fill_json(fill: FillRecord) -> dict[str, Any]:
    """A Fill as GET /portfolio/fills shows it: fill_id and trade_id are the trade's id."""
    return {
        "fill_id": fill.trade_id,
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "ticker": fill.ticker,
        "market_ticker": fill.ticker,
        "exchange_index": 0,
        "outcome_side": _outcome(fill.side),
        "book_side": fill.side.value,
        "count_fp": fixed_count(fill.count),
        "yes_price_dollars": fixed_price(fill.price),
        "no_price_dollars": fixed_price(ONE - fill.price),
        "is_taker": fill.is_taker,
        "fee_cost": fixed_price(fill.fee),
        "created_time": _iso(fill.at),
        "ts": int(fill.at.timestamp()),
    }


def settlement_json(row: SettlementRecord) -> dict[str, Any]:
    """A Settlement: revenue and value are integer cents, as the spec has them."""
    return {
        "ticker": row.ticker,
        "exchange_index": 0,
        "event_ticker": row.event_ticker,
        "market_result": row.result,
        "yes_count_fp": fixed_count(row.yes_count),
        "yes_total_cost_dollars": fixed_price(row.yes_cost),
        "no_count_fp": fixed_count(row.no_count),
        "no_total_cost_dollars": fixed_price(row.no_cost),
        "revenue": int(row.revenue * 100),
        "value": 100 if row.result == "yes" else 0,
        "settled_time": _iso(row.at),
        "fee_cost": fixed_price(row.fees),
    }


def _event_json(event: str, totals: dict[str, Decimal]) -> dict[str, Any]:
    return {
        "event_ticker": event,
        "total_cost_dollars": fixed_price(totals["cost"]),
        "total_cost_shares_fp": fixed_count(totals["shares"]),
        "event_exposure_dollars": fixed_price(totals["exposure"]),
        "realized_pnl_dollars": fixed_price(totals["realized"]),
        "fees_paid_dollars": fixed_price(totals["fees"]),
    }


def _limit_json(limit: Decimal | None) -> dict[str, str]:
    return {} if limit is None else {"contracts_limit_fp": fixed_count(limit)}


def _outcome(side: BookSide) -> str:
    return "yes" if side is BookSide.BID else "no"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# Arguments and pages --------------------------------------------------------------------------


def page(
    args: dict[str, Any], key: str, items: Sequence[tuple[int, T]], shape: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """One page of ``items`` ((sequence number, item), newest first); the cursor is the last number sent."""
    limit = _limit(args)
    cursor = args.get("cursor")
    if cursor:
        try:
            before = int(cursor)
        except ValueError:
            raise Refused(400, "invalid_parameters", f"cursor {cursor!r} is not one of ours") from None
        items = [(number, item) for number, item in items if number < before]
    chosen = items[:limit]
    more = len(items) > limit
    return {key: [shape(item) for _, item in chosen], "cursor": str(chosen[-1][0]) if more else ""}


def _limit(args: dict[str, Any]) -> int:
    value = _integer(args, "limit")
    if value is None:
        return DEFAULT_PAGE
    if not 1 <= value <= MAX_PAGE:
        raise Refused(400, "invalid_parameters", f"limit must be 1 to {MAX_PAGE}, got {value}")
    return value


def _offset(args: dict[str, Any]) -> int:
    return _integer(args, "cursor") or 0


def _integer(args: dict[str, Any], name: str) -> int | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Refused(400, "invalid_parameters", f"{name} must be an integer, got {value!r}") from None


def _matches(args: dict[str, Any], ticker: str, moment: datetime) -> bool:
    """The ``ticker``, ``min_ts`` and ``max_ts`` filters (Unix seconds, inclusive)."""
    if args.get("ticker") and args["ticker"] != ticker:
        return False
    low, high, seconds = _integer(args, "min_ts"), _integer(args, "max_ts"), moment.timestamp()
    return (low is None or seconds >= low) and (high is None or seconds <= high)


def _contracts_limit(args: dict[str, Any]) -> Decimal | None:
    """``contracts_limit_fp`` (a fixed-point string) or ``contracts_limit`` (whole contracts)."""
    raw = args.get("contracts_limit_fp")
    if raw is None and args.get("contracts_limit") is not None:
        raw = str(args["contracts_limit"])
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise Refused(400, "invalid_parameters", f"contracts_limit {raw!r} is not a number") from None


def public_paths() -> Iterable[str]:
    """The routes Kalshi serves without authentication."""
    return ("/historical/cutoff", "/exchange/status")
