from decimal import Decimal

from markets.schemas.enums import BookSide
from trading.ledger import Position


def test_buying_yes_then_settling_yes_pays_a_dollar_a_contract():
    position = Position()
    assert position.fill(BookSide.BID, Decimal(10), Decimal("0.40"), Decimal("0.17")) == Decimal("-4.17")
    assert (position.yes, position.no, position.cost) == (Decimal(10), Decimal(0), Decimal("4.00"))
    assert position.settle(Decimal(1)) == 10
    assert position.realized == Decimal("5.83") and not position.is_open


def test_an_ask_with_nothing_held_buys_no_at_one_minus_the_price():
    position = Position()
    assert position.fill(BookSide.ASK, Decimal(10), Decimal("0.93"), Decimal("0.05")) == Decimal("-0.75")
    assert (position.yes, position.no, position.cost) == (Decimal(0), Decimal(10), Decimal("0.70"))
    assert position.settle(Decimal(0)) == 10
    assert position.realized == Decimal("9.25")


def test_selling_yes_held_closes_pairs_and_realises_the_difference_at_once():
    position = Position()
    position.fill(BookSide.BID, Decimal(10), Decimal("0.40"), Decimal(0))
    cash = position.fill(BookSide.ASK, Decimal(4), Decimal("0.60"), Decimal("0.02"))
    assert cash == Decimal("2.38")  # 4 YES sold at 0.60, less the fee
    assert (position.yes, position.no, position.cost) == (Decimal(6), Decimal(0), Decimal("2.40"))
    assert position.realized == Decimal("0.78")  # 4·(0.60 - 0.40) - 0.02


def test_selling_more_than_held_flips_to_no():
    position = Position()
    position.fill(BookSide.BID, Decimal(2), Decimal("0.40"), Decimal(0))
    position.fill(BookSide.ASK, Decimal(5), Decimal("0.50"), Decimal(0))
    assert (position.yes, position.no, position.cost) == (Decimal(0), Decimal(3), Decimal("1.50"))
    assert position.settle(Decimal(0)) == 3
    assert position.realized == Decimal("0.20") + Decimal("1.50")
