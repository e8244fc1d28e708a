"""Streaming readers for history files: one record at a time, with its file and line.

Files can be large (a trade tape is hundreds of thousands of lines), so nothing
here reads a whole file into memory. Every problem, including a gzip stream cut
short, becomes a :class:`MalformedLine` naming the file and line.

Each reader advances a :class:`~kalshiweb.progress.Progress` as it reads, by
the kilobytes it reads from disk (compressed ones for .gz): unlike a file's
lines, or its decompressed size, its size on disk is known before reading, so
:func:`stage_files` can give the stage its total.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

import orjson

from kalshiweb.progress import SILENT, Progress


class MalformedLine(ValueError):
    """A line (or, with line None, a file) that cannot be imported; ``str()`` is ``path:line: reason``."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")
        self.path, self.line, self.reason = path, line, reason


class RowProblem(ValueError):
    """A row that cannot be imported; the caller adds the file and line."""


KILOBYTE = 1000  # the unit of progress: byte counts of 8 digits are hard to read at a glance


def stage_files(progress: Progress, kind: str, paths: Sequence[Path]) -> None:
    """Start the progress stage of reading ``paths``, files of ``kind``: its total is their size on disk."""
    count = f"{len(paths)} file{'' if len(paths) == 1 else 's'}"
    # A whole number: with a fractional total, rich's bar draws a finished stage a half-cell short.
    total = math.ceil(sum(path.stat().st_size for path in paths) / KILOBYTE)
    progress.stage(f"{kind} ({count}, kB)", total=total)


class _Counted(io.RawIOBase):
    """A file's bytes as stored on disk, each read reported to ``progress`` in kilobytes.

    Reads are buffer refills (8 KiB under the CSV reader, a BLOCK for JSON
    Lines), so progress moves a block at a time, never a row at a time.
    """

    def __init__(self, path: Path, progress: Progress) -> None:
        super().__init__()
        self._file = path.open("rb", buffering=0)
        self._advance = progress.advance

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer) or 0
        if count:
            self._advance(count / KILOBYTE)
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def _open_counted(path: Path, progress: Progress) -> io.BufferedReader:
    return io.BufferedReader(_Counted(path, progress))


def _decompressed(path: Path, stored: IO[bytes]) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=stored, mode="rb"))
    return stored


BLOCK = 1 << 20  # bytes per read: line-by-line gzip reads cost more than the JSON parsing


def _blocks(path: Path, progress: Progress) -> Iterator[bytes]:
    """The file's bytes, decompressed if it is gzip, a block at a time.

    zlib directly rather than GzipFile: everything before a truncation point
    comes out before the error, so the error names the first line lost.
    Concatenated gzip members are read one after another, as gzip does.
    """
    with _open_counted(path, progress) as handle:
        if not path.name.endswith(".gz"):
            while block := handle.read(BLOCK):
                yield block
            return
        inflater = zlib.decompressobj(wbits=31)
        while compressed := handle.read(BLOCK):
            while compressed:
                if inflater.eof:  # another gzip member follows the one just finished
                    inflater = zlib.decompressobj(wbits=31)
                yield inflater.decompress(compressed)
                compressed = inflater.unused_data if inflater.eof else b""
        yield inflater.flush()
        if not inflater.eof:
            raise EOFError("compressed file ended before the end-of-stream marker was reached")


def line_chunks(path: Path, progress: Progress = SILENT) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, whole lines each ending in a newline), a block at a time.

    A block's partial last line is carried over to the next, so memory stays at
    one block whatever the file size; the file's last line gets its newline
    added if it lacks one. A truncated or corrupt file fails, after every whole
    line before the break, with the number of the first line lost.
    """
    number = 1
    tail = b""
    try:
        for block in _blocks(path, progress):
            data = tail + block
            cut = data.rfind(b"\n") + 1
            tail = data[cut:]
            if cut:
                yield number, data[:cut]
                number += data.count(b"\n", 0, cut)
    except (EOFError, zlib.error) as exc:
        raise MalformedLine(path, number, f"the file is truncated or corrupt ({exc})") from None
    if tail:
        yield number, tail + b"\n"


def raw_lines(path: Path, progress: Progress = SILENT) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line without its newline) for each line of the file; see line_chunks."""
    for first, chunk in line_chunks(path, progress):
        for offset, raw in enumerate(chunk.split(b"\n")[:-1]):
            yield first + offset, raw


def json_objects(path: Path, progress: Progress = SILENT) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file, plain or gzip."""
    for number, raw in raw_lines(path, progress):
        data = json_object(path, number, raw)
        if data is not None:
            yield number, data


def json_object(path: Path, number: int, raw: bytes) -> dict[str, Any] | None:
    """One JSON Lines line as an object; None for a blank line; MalformedLine for anything else."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not raw.strip():
            return None
        raise MalformedLine(path, number, f"not valid JSON ({exc})") from None
    if type(data) is not dict:
        raise MalformedLine(path, number, f"expected a JSON object, got {type(data).__name__}")
    return data


def csv_rows(
    path: Path, *, expected: tuple[str, ...], progress: Progress = SILENT
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each row of a CSV file, plain or gzip; the header must contain ``expected``."""
    with (
        _open_counted(path, progress) as stored,
        _decompressed(path, stored) as binary,
        io.TextIOWrapper(binary, encoding="utf-8", newline="") as text,
    ):
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
