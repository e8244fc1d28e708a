"""Reading a page number from a query string."""

from __future__ import annotations

import pytest

from kalshiweb.paging import LAST_POSSIBLE_PAGE, page_number


@pytest.mark.parametrize(
    ("given", "number"), [("1", 1), ("2", 2), ("007", 7), (str(LAST_POSSIBLE_PAGE), LAST_POSSIBLE_PAGE)]
)
def test_a_page_number_is_read(given, number):
    assert page_number(given) == number


@pytest.mark.parametrize(
    "given",
    [None, "", "0", "-1", "+2", " 2", "2.0", "two", "²", "\u0661", str(LAST_POSSIBLE_PAGE + 1), "9" * 23, "9" * 5000],
)
def test_anything_else_is_no_page(given):
    assert page_number(given) is None
