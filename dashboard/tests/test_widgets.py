"""The dashboard's Select written in Python: Django's markup, without its per-option templates."""

from __future__ import annotations

import re

import pytest
from django import forms

from dashboard.widgets import PlainSelect

CHOICES = [
    ("", "---------"),
    ("a&b", "Tom & Jerry <script>"),
    ("Cities", [(1, "Austin"), (2, "O'Hare")]),  # an optgroup
]


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("value", ["", "a&b", 2, None])
def test_it_writes_what_djangos_select_writes(value):
    attrs = {"id": "id_city", "required": True, "disabled": False, "data-x": '"quoted"'}
    ours = PlainSelect(choices=CHOICES).render("city", value, attrs=attrs)
    djangos = forms.Select(choices=CHOICES).render("city", value, attrs=attrs)
    assert _tags(ours) == _tags(djangos)
    assert "<script>" not in ours and "Tom &amp; Jerry &lt;script&gt;" in ours


def test_the_chosen_option_is_selected():
    html = PlainSelect(choices=CHOICES).render("city", 2, attrs={"id": "id_city"})
    assert '<option value="2" selected>O&#x27;Hare</option>' in html
    assert html.count(" selected") == 1
