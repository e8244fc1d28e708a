"""The one reading of a page number from a query string, for the API's pages and the dashboard's."""

from __future__ import annotations

# No list here holds a billion pages; past that the offset (page x rows a page) would overflow the database's
# integers, and a number that long is no page a link gave.
LAST_POSSIBLE_PAGE = 10**9


def page_number(given: str | None) -> int | None:
    """``given`` (``?page=N``) as a page number from 1, or None when it is not one: missing, not written in
    ASCII digits ("²" is a digit to ``str.isdigit`` but not to ``int``), zero, or past LAST_POSSIBLE_PAGE."""
    if given is None or not (given.isascii() and given.isdigit()) or len(given) > len(str(LAST_POSSIBLE_PAGE)):
        return None
    number = int(given)
    return number if 1 <= number <= LAST_POSSIBLE_PAGE else None
