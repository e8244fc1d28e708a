"""Streaming readers for history files: one record at a time, with its file and line.

Files can be large (a trade tape is hundreds of thousands of lines), so nothing
here reads a whole file into memory. Every problem, including a gzip stream cut
short, becomes a :class:`MalformedLine` naming the file and line.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson


class MalformedLine(ValueError):
    """A line (or, with line None, a file) that cannot be imported; ``str()`` is ``path:line: reason``."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")
        self.path, self.line, self.reason = path, line, reason


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line); a truncated or corrupt file fails at the line where it breaks."""
    number = 0
    try:
        with _open_binary(path) as handle:
            for number, raw in enumerate(handle, 1):
                yield number, raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise MalformedLine(path, number + 1, f"the file is truncated or corrupt ({exc})") from None


def json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file, plain or gzip."""
    for number, raw in _lines(path):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                continue
            raise MalformedLine(path, number, f"not valid JSON ({exc})") from None
        if type(data) is not dict:
            raise MalformedLine(path, number, f"expected a JSON object, got {type(data).__name__}")
        yield number, data


def csv_rows(path: Path, *, expected: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each row of a CSV file; the header must contain ``expected``."""
    with _open_binary(path) as binary, io.TextIOWrapper(binary, encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise MalformedLine(path, 1, "the file is empty (no header)") from None
        except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise MalformedLine(path, 1, f"unreadable ({exc})") from None
        missing = [column for column in expected if column not in header]
        if missing:
            raise MalformedLine(path, 1, f"header lacks column(s) {', '.join(missing)}")
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise MalformedLine(path, reader.line_num, f"expected {len(header)} fields, found {len(row)}")
                yield reader.line_num, dict(zip(header, row, strict=True))
        except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise MalformedLine(path, reader.line_num + 1, f"the file is truncated or corrupt ({exc})") from None
