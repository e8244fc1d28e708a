"""The product's own KalshiClient reads the local exchange's account endpoints (so its parsers accept them)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kalshiweb.modes import KalshiEnvironment, TradingMode
from localexchange.exchange import Exchange
from localexchange.matching import NewOrder
from localexchange.server import running
from localexchange.ws import LocalFeed
from markets.client import KalshiClient
from markets.errors import Conflict
from markets.schemas.enums import BookSide, MarketResult, OrderStatus, Side, TimeInForce
from markets.schemas.orders import CreateOrderRequest, OrderAck
from markets.signing import RequestSigner
from markets.transport import ClientConfig
from trading.fees import FeeSchedule

M = "KXHIGHNY-25FEB20-B44.5"
M2 = "KXHIGHNY-25FEB20-B46.5"
D = Decimal
GTC = TimeInForce.GOOD_TILL_CANCELED


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def venue() -> Exchange:
    exchange = Exchange()
    for ticker in (M, M2):
        exchange.open_market(ticker, FeeSchedule("quadratic", D(1)))
    exchange.deposit("bot", D(100))
    exchange.deposit("maker", D(1000))
    return exchange


def with_client(key: Any, exchange: Exchange, work: Callable[[KalshiClient], Any]) -> Any:
    """Run ``work`` with the real client against ``exchange`` served over REST, maker orders placed first."""
    feed = LocalFeed(exchange, {"bot": key.public_key()})

    async def scenario() -> Any:
        async with running(feed) as urls:
            now = datetime.now(UTC)
            await feed.place(NewOrder("maker", M, BookSide.ASK, D("0.40"), D(5)), at=now)
            await feed.place(NewOrder("maker", M2, BookSide.BID, D("0.60"), D(5)), at=now)
            config = ClientConfig(
                urls.rest_url, KalshiEnvironment.DEMO, TradingMode.DEMO, signer=RequestSigner("bot", key)
            )

            def run() -> Any:
                with KalshiClient(config) as client:
                    return work(client)

            return await asyncio.to_thread(run)

    return asyncio.run(scenario())


def order(
    ticker: str, side: BookSide, price: str, count: int, client_order_id: str, **extra: Any
) -> CreateOrderRequest:
    return CreateOrderRequest(ticker, side, D(price), D(count), client_order_id, GTC, **extra)


def test_orders_fills_positions_and_a_settlement_read_back_through_the_client(key):
    exchange = venue()

    def work(client: KalshiClient) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        bought = client.create_order(order(M, BookSide.BID, "0.45", 3, "bot-1"))  # takes 3 YES at 0.40
        sold = client.create_order(order(M2, BookSide.ASK, "0.55", 2, "bot-2"))  # sells 2 YES at 0.60: 2 NO
        client.create_order(order(M, BookSide.BID, "0.20", 4, "bot-3"))  # rests
        assert isinstance(bought, OrderAck) and isinstance(sold, OrderAck)
        with pytest.raises(Conflict) as conflict:
            client.create_order(order(M, BookSide.BID, "0.45", 3, "bot-1"))
        seen["conflict"] = conflict.value.info.code if conflict.value.info else None
        seen["orders"] = list(client.iter_orders(page_size=2))
        seen["resting"] = list(client.iter_orders(status=OrderStatus.RESTING))
        seen["order"] = client.get_order(bought.order_id)
        seen["fills"] = list(client.iter_fills(page_size=1))
        seen["m2_fills"] = list(client.iter_fills(ticker=M2))
        seen["positions"] = client.get_positions()
        seen["balance_before"] = client.get_balance().balance
        exchange.settle(M, "yes")
        seen["balance_after"] = client.get_balance().balance
        seen["settlements"] = list(client.iter_settlements())
        seen["positions_after"] = client.get_positions(ticker=M)
        seen["resting_after"] = list(client.iter_orders(status=OrderStatus.RESTING))
        return seen

    seen = with_client(key, exchange, work)
    assert seen["conflict"] == "order_already_exists" and len(exchange.orders) == 5  # 2 maker orders, 3 of ours
    assert [o.client_order_id for o in seen["orders"]] == ["bot-3", "bot-2", "bot-1"]  # every page, newest first
    assert [o.client_order_id for o in seen["resting"]] == ["bot-3"]
    bought = seen["order"]
    assert (bought.status, bought.fill_count, bought.taker_fill_cost) == ("executed", D(3), D("1.20"))
    fills = seen["fills"]
    assert [(f.ticker, f.count, f.yes_price, f.is_taker) for f in fills] == [
        (M2, D(2), D("0.60"), True),
        (M, D(3), D("0.40"), True),
    ]
    assert [f.book_side for f in fills] == [BookSide.ASK, BookSide.BID]
    assert [f.outcome_side for f in fills] == [Side.NO, Side.YES]
    assert fills[1].fee_cost == D("0.06") and fills[1].fill_id == fills[1].trade_id  # 0.07 x 3 x 0.4 x 0.6 -> 0.06
    assert [f.ticker for f in seen["m2_fills"]] == [M2]
    positions = {p.ticker: p for p in seen["positions"].market_positions}
    assert (positions[M].position, positions[M].market_exposure, positions[M].total_traded) == (
        D(3),
        D("1.20"),
        D("1.20"),
    )
    assert (positions[M2].position, positions[M2].market_exposure) == (D(-2), D("0.80"))
    assert positions[M].fees_paid == D("0.06") and positions[M].last_updated is not None
    (event,) = seen["positions"].event_positions
    assert (event.event_ticker, event.total_cost, event.total_cost_shares) == ("KXHIGHNY-25FEB20", D("2.00"), D(5))

    assert seen["balance_after"] - seen["balance_before"] == D(3)  # 3 YES paid $1 each
    (settlement,) = seen["settlements"]
    assert (settlement.ticker, settlement.market_result, settlement.yes_count) == (M, MarketResult.YES, D(3))
    assert (settlement.yes_total_cost, settlement.revenue, settlement.value) == (D("1.20"), D(3), D(1))
    assert settlement.fee_cost == D("0.06")
    (after,) = seen["positions_after"].market_positions
    assert (after.position, after.market_exposure, after.realized_pnl) == (D(0), D(0), D("1.74"))  # 3 - 1.20 - 0.06
    assert seen["resting_after"] == []  # settling canceled bot-3


def test_the_historical_endpoints_take_over_at_the_cutoff(key):
    exchange = venue()

    def work(client: KalshiClient) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        client.create_order(order(M, BookSide.BID, "0.45", 3, "bot-1"))
        client.create_order(order(M, BookSide.BID, "0.20", 4, "bot-2"))
        seen["cutoff_before"] = client.get_historical_cutoff()
        exchange.set_historical_cutoff(datetime.now(UTC) + timedelta(seconds=1))
        seen["cutoff"] = client.get_historical_cutoff()
        seen["fills"] = list(client.iter_fills())
        seen["historical_fills"] = list(client.iter_historical_fills())
        seen["orders"] = list(client.iter_orders())
        seen["historical_orders"] = list(client.iter_historical_orders(ticker=M))
        return seen

    seen = with_client(key, exchange, work)
    assert seen["cutoff_before"].trades_created_ts == datetime(1970, 1, 1, tzinfo=UTC)
    assert seen["cutoff"].orders_updated_ts == exchange.historical_cutoff
    assert seen["fills"] == [] and [f.count for f in seen["historical_fills"]] == [D(3)]
    assert [o.client_order_id for o in seen["orders"]] == ["bot-2"]  # resting orders are always live
    assert [o.client_order_id for o in seen["historical_orders"]] == ["bot-1"]


def test_order_groups_and_cancels_through_the_client(key):
    exchange = venue()

    def work(client: KalshiClient) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        group = client.create_order_group(D(4))
        assert isinstance(group, str)
        client.create_order(order(M, BookSide.BID, "0.20", 2, "bot-1", order_group_id=group))
        client.create_order(order(M2, BookSide.ASK, "0.80", 2, "bot-2", order_group_id=group))
        seen["group"] = client.get_order_group(group)
        seen["groups"] = client.list_order_groups()
        client.set_order_group_limit(group, D(10))
        seen["limit"] = client.get_order_group(group).contracts_limit
        client.trigger_order_group(group)
        seen["after_trigger"] = [o.status for o in client.iter_orders()]
        client.reset_order_group(group)
        client.create_order(
            order(M, BookSide.BID, "0.45", 5, "bot-3", order_group_id=group)
        )  # fills 5, under the new limit of 10
        client.create_order(order(M, BookSide.BID, "0.10", 1, "bot-4"))
        client.create_order(order(M, BookSide.BID, "0.11", 1, "bot-5"))
        ids = [o.order_id for o in client.iter_orders(status=OrderStatus.RESTING)]
        seen["batch"] = client.batch_cancel_orders(ids[:1])
        client.cancel_all_orders()
        seen["resting"] = list(client.iter_orders(status=OrderStatus.RESTING))
        client.delete_order_group(group)
        seen["groups_after"] = client.list_order_groups()
        return seen

    seen = with_client(key, exchange, work)
    group = seen["group"]
    assert (group.contracts_limit, group.order_ids, group.is_auto_cancel_enabled) == (D(4), ("ord-3", "ord-4"), True)
    assert [g.id for g in seen["groups"]] == [group.id] and seen["limit"] == D(10)
    assert seen["after_trigger"] == ["canceled", "canceled"]
    assert len(seen["batch"]) == 1 and isinstance(seen["batch"][0], OrderAck)
    assert seen["resting"] == [] and exchange.markets[M].book.bids() == []
    assert seen["groups_after"] == ()
