"""Form widgets the dashboard's filter forms render often, written out in Python."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class PlainSelect(forms.Select):
    """Django's Select, with the same markup, written out here rather than by its templates.

    Its template includes another template for each option: the decision log's filter form, with a city list and
    three other lists, took about a quarter of the page's time in Django's template engine.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _ in widget["optgroups"]:
            written = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((o["value"], _attributes(o["attrs"]), o["label"]) for o in options),
            )
            groups.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, written) if group_name else written
            )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], _attributes(widget["attrs"]), SafeString("".join(groups))
        )


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """As Django's widgets/attrs.html writes them: in order, True as a bare name, False left out."""
    written = (
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )
    return SafeString("".join(written))
