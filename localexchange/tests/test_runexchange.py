"""``manage.py runexchange``: the local exchange over the database's open temperature markets."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command
from django.utils import timezone

from markets.tests.factories import MarketFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def member_key(tmp_path, monkeypatch):
    monkeypatch.setattr("localexchange.management.commands.runexchange.resolve_credentials", lambda: None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "member.pub.pem"
    path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


def test_it_serves_the_open_markets_and_says_how_to_point_the_product_at_it(member_key):
    MarketFactory.create(close_time=timezone.now() + timedelta(hours=8))
    out = StringIO()
    call_command(
        "runexchange", "--rest-port=0", "--ws-port=0", "--seconds=0.3", "--key-id=bot", f"--public-key={member_key}",
        "--faults=seed=3,gap=0.01", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "Local exchange: 1 markets, 1 member(s) with $1,000.00 each" in text
    assert "KALSHI_API_BASE=http://127.0.0.1:" in text and "/trade-api/v2 KALSHI_WS_BASE=ws://127.0.0.1:" in text
    assert text.rstrip().endswith("Local exchange stopped.")


def test_it_says_what_is_missing(member_key):
    with pytest.raises(CommandError, match=r"No open temperature markets .* syncmarkets"):
        call_command("runexchange", "--seconds=0.1", "--key-id=bot", f"--public-key={member_key}")
    with pytest.raises(CommandError, match="No member to trade"):
        call_command("runexchange", "--seconds=0.1")
    with pytest.raises(CommandError, match="unknown fault 'lag=2'"):
        call_command("runexchange", "--faults=lag=2", "--key-id=bot", f"--public-key={member_key}")


def test_a_stored_day_is_replayed_with_makers_following_its_prints(member_key):
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from localexchange.management.commands.runexchange import replay
    from markets.models import Market
    from markets.tests.factories import EventFactory, TradeFactory

    first, later = datetime(2025, 2, 20, 14, tzinfo=UTC), datetime(2025, 2, 20, 18, tzinfo=UTC)
    market = MarketFactory.create(
        event=EventFactory.create(target_date=date(2025, 2, 20)), result="yes", settled_at=first.replace(minute=30)
    )
    TradeFactory.create(market=market, yes_price=Decimal("0.3100"), no_price=Decimal("0.6900"), created_time=first)
    TradeFactory.create(market=market, yes_price=Decimal("0.5500"), no_price=Decimal("0.4500"), created_time=later)

    maker, clock = replay(list(Market.objects.select_related("event__series")), date(2025, 2, 20), speed=3600)
    path = maker.paths[market.ticker]
    assert (path(first), path(later), path(first.replace(hour=13))) == (
        Decimal("0.31"),
        Decimal("0.55"),
        Decimal("0.31"),
    )
    assert first <= clock() < first.replace(hour=15)  # replay time starts at the day's first print

    out = StringIO()
    call_command(
        "runexchange", "--rest-port=0", "--ws-port=0", "--seconds=1.2", "--replay=2025-02-20", "--speed=3600",
        "--key-id=bot", f"--public-key={member_key}", stdout=out,
    )  # fmt: skip
    assert "Makers quote every market (replaying the prints of 2025-02-20 at 3600x)" in out.getvalue()
    assert f"Settled {market.ticker} YES: paid $0.00" in out.getvalue()  # half an hour of the day in, as Kalshi did
