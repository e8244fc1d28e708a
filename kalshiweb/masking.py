"""Showing that a secret is set without showing the secret."""

from __future__ import annotations


def mask_tail(value: str, visible: int = 4) -> str:
    """'abcd-1234-wxyz' → '…wxyz'; values too short to hide anything are hidden entirely."""
    if len(value) <= visible * 2:
        return "…"
    return "…" + value[-visible:]
