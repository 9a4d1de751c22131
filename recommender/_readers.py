"""Read raw records from JSONL files, CSV files, pandas DataFrames or iterables.

This is the only place that opens input files. Every record comes out as
``(source, line, mapping)`` so validators can name the record in their errors:
``source`` is the file name (or ``"<iterable>"``), ``line`` the 1-based line in
the file (for CSV, the physical line where the row starts) or position in the
iterable. Undecodable bytes and malformed JSON raise
:class:`~recommender.exceptions.InvalidInputError` naming that line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .exceptions import InvalidInputError

__all__ = ["DATAFRAME_SOURCE", "RawRecord", "iter_records"]

RawRecord = tuple[str, int, Any]
DATAFRAME_SOURCE = "<dataframe>"  # the source of DataFrame rows, where NaN marks a missing cell

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_CSV_SUFFIXES = (".csv",)


def iter_records(source: Any) -> Iterator[RawRecord]:
    """Yield ``(source, line, record)`` for every record of ``source``.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or iterable
        A ``.jsonl``/``.ndjson``/``.json`` (one object per line) or ``.csv`` file,
        optionally gzip-compressed (``.gz``); a DataFrame (one record per row);
        or any iterable of mappings or record objects.

    Yields
    ------
    tuple of (str, int, object)
        Where the record came from, its 1-based line or position, the record.
    """
    if isinstance(source, (str, os.PathLike)):
        yield from _iter_file(Path(source))
    elif hasattr(source, "to_dict") and hasattr(source, "columns"):
        for position, row in enumerate(source.to_dict(orient="records"), start=1):
            yield DATAFRAME_SOURCE, position, row
    elif isinstance(source, (bytes, Mapping)) or not isinstance(source, Iterable):
        raise InvalidInputError(
            f"expected a file path, a DataFrame or an iterable of records, got {type(source).__name__}"
        )
    else:
        for position, row in enumerate(source, start=1):
            yield "<iterable>", position, row


def _iter_file(path: Path) -> Iterator[RawRecord]:
    name = str(path)
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    kind = suffixes[-2] if compressed and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    if kind not in _JSONL_SUFFIXES + _CSV_SUFFIXES:
        raise InvalidInputError(
            "cannot tell the format from the file name; use a .jsonl or .csv suffix (optionally .gz)",
            source=name,
        )
    if "\x00" in name:
        raise InvalidInputError("a file name cannot hold a NUL character", source=repr(name))
    try:
        raw = gzip.open(path, "rb") if compressed else open(path, "rb")
    except OSError as error:
        raise InvalidInputError(f"cannot open: {error.strerror or error}", source=name) from error
    with raw:
        try:
            if kind in _CSV_SUFFIXES:
                yield from _iter_csv(raw, name)
            else:
                yield from _iter_jsonl(raw, name)
        except EOFError:  # gzip: the compressed stream stops before its end marker
            raise InvalidInputError("the compressed data ends early (a truncated .gz file); records after "
                                    "the last one read are missing", source=name) from None
        except (OSError, zlib.error) as error:  # not gzip data (BadGzipFile), a damaged stream, a read error
            what = "not gzip data or damaged" if compressed and not isinstance(error, IsADirectoryError) else "unreadable"
            raise InvalidInputError(f"{what}: {error}", source=name) from None


_NOT_UTF8 = "not valid UTF-8; re-encode the file as UTF-8"


def _decode(line: bytes, number: int) -> str:
    """Decode leniently: undecodable bytes become lone surrogates, found by :func:`_is_garbled`."""
    return line.decode("utf-8-sig" if number == 1 else "utf-8", errors="surrogateescape")


def _is_garbled(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> None:
    """``NaN``, ``Infinity``: Python's JSON reader accepts them, JSON has no such values."""
    raise _NotJson(f"malformed JSON: {name} is not a JSON value (write null, or a number)")


def _split_lines(raw: io.BufferedIOBase) -> Iterator[tuple[int, bytes]]:
    """Numbered lines ending at ``\n``, ``\r\n`` or a lone ``\r`` (as universal newlines:
    a file whose records are separated by ``\r`` alone has one line per record)."""
    number = 0
    for line in raw:
        body = line[:-1] if line.endswith(b"\n") else line
        body = body[:-1] if body.endswith(b"\r") else body
        for part in body.split(b"\r"):
            number += 1
            yield number, part


def _iter_jsonl(raw: io.BufferedIOBase, name: str) -> Iterator[RawRecord]:
    for number, line in _split_lines(raw):
        text = _decode(line, number).strip()
        if not text:
            continue
        if _is_garbled(text):
            yield name, number, InvalidInputError(_NOT_UTF8, source=name, line=number)
            continue
        try:
            record = json.loads(text, parse_constant=_no_constant)
        except _NotJson as error:
            record = InvalidInputError(str(error), source=name, line=number)
        except json.JSONDecodeError as error:
            record = InvalidInputError(f"malformed JSON: {error.msg.removesuffix(' at')} (column {error.colno})",
                                       source=name, line=number)
        except RecursionError:
            record = InvalidInputError("JSON nested too deeply", source=name, line=number)
        yield name, number, record


class _NumberedLines:
    """Decode lines one by one for :mod:`csv`, remembering the current line number."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self.raw, self.number = raw, 0

    def __iter__(self) -> Iterator[str]:
        for line in self.raw:
            self.number += 1
            yield _decode(line, self.number)


def _iter_csv(raw: io.BufferedIOBase, name: str) -> Iterator[RawRecord]:
    # The csv module caps fields at 128 KiB by default (a process-wide setting); article
    # bodies may be longer, and their real limit is checked by the validators.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))
    lines = _NumberedLines(raw)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise InvalidInputError(f"malformed CSV header: {error}", source=name, line=1) from error
    header = [column.strip() for column in header]
    if _is_garbled("".join(header)):
        raise InvalidInputError(_NOT_UTF8, source=name, line=1)
    if len(set(header)) != len(header) or any(not column for column in header):
        raise InvalidInputError(f"CSV header has empty or repeated column names: {header}", source=name, line=1)
    while True:
        start = lines.number + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield name, start, InvalidInputError(f"malformed CSV: {error}", source=name, line=start)
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if _is_garbled("".join(row)):
            yield name, start, InvalidInputError(_NOT_UTF8, source=name, line=start)
        elif len(row) != len(header):
            message = f"expected {len(header)} fields ({', '.join(header)}), found {len(row)}"
            yield name, start, InvalidInputError(message, source=name, line=start)
        else:
            yield name, start, {column: (cell if cell != "" else None) for column, cell in zip(header, row)}
