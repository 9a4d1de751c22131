"""The article catalogue: the one mapping between public article ids and internal rows.

Public calls take article ids; the index, the matrices and the list builders work with
row numbers. :class:`Catalog` owns the translation both ways plus the per-row metadata the
list builders filter on (section, publication time, language) and the display fields (title, url).
Rows are dense ``0..n-1`` in the order articles were added and never move.

Memory: the catalogue is held as columns, not as one Python object per article. Ids,
titles and the rarely read details (url, tags, the original ``published_at`` text, NUL-separated) are each
one UTF-8 byte array plus offsets (:class:`StringColumn`); ids are found through a sorted
array of 64-bit id hashes. These are plain arrays, so a saved model stores them as ``.npy``
files and ``Recommender.load(mmap=True)`` maps them: N worker processes share one copy, as
they share the matrices. Rows added after a load (``add_articles``) sit in a small tail of
Python lists, folded into the arrays once it grows past ``max(1,000, 5 %)`` of them.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import numpy as np

from ._segments import FOLD_MIN, should_fold
from ._time import epoch_seconds
from .exceptions import DuplicateArticleError, InvalidInputError, UnknownArticleError

__all__ = ["Catalog", "StringColumn"]

# joins a row's details: url ("" for none), published_at, tags; validation keeps NUL out of all three
_SEPARATOR = "\x00"
MAX_FLAGS = 32
"""Distinct editorial flags a model holds (one bit each of a uint32 per article)."""
_UTF8_CONTINUATION_MASK, _UTF8_CONTINUATION = 0xC0, 0x80  # bytes 10xxxxxx continue a character


def id_hash(article_id: str) -> int:
    """A stable 64-bit hash of an id (the same in every process, unlike ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest(), "little")


_FAR_SECONDS = 2.0 ** 62
"""Beyond every publication time, and exact both as a float and as an int64."""


def _whole_seconds(bound: float, *, up: bool) -> np.int64 | float:
    """An int64 search key selecting the same whole-second publication times as ``bound``: the
    smallest whole second at or above it (``up``) or the largest at or below it. Searching the
    int64 times with a float key would convert the whole array to floats on every call."""
    key = math.ceil(bound) if up and math.isfinite(bound) else math.floor(bound) if math.isfinite(bound) else bound
    if key != key:  # nan: searched as given
        return bound
    return np.int64(min(max(key, -_FAR_SECONDS), _FAR_SECONDS))


class StringColumn:
    """An immutable column of strings: one UTF-8 ``blob`` (uint8) and ``offsets`` (int64, n + 1)."""

    __slots__ = ("_view", "blob", "offsets")

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob, self.offsets = blob, offsets
        self._view = memoryview(blob)  # slicing a memoryview is the cheapest way to a str

    @classmethod
    def of(cls, values: Iterable[str]) -> StringColumn:
        encoded = [value.encode("utf-8") for value in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(value) for value in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> str:
        return str(self._view[self.offsets.item(row):self.offsets.item(row + 1)], "utf-8")

    def take(self, rows: np.ndarray) -> list[str]:
        """The strings of ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        view = self._view
        return [str(view[start:end], "utf-8")
                for start, end in zip(self.offsets[rows].tolist(), self.offsets[rows + 1].tolist())]

    def __iter__(self) -> Iterator[str]:
        return iter(self.take(np.arange(len(self))))

    def check_bounds(self, name: str) -> None:
        """Raise ``ValueError`` unless the offsets cut the byte array into consecutive strings."""
        offsets = self.offsets
        if (self.blob.ndim != 1 or offsets.ndim != 1 or len(offsets) == 0 or offsets[0] != 0
                or offsets[-1] != len(self.blob) or bool((offsets[1:] < offsets[:-1]).any())):
            raise ValueError(f"{name} offsets do not describe its byte array")

    def check(self, name: str) -> None:
        """Raise ``ValueError`` unless the arrays describe a column of UTF-8 strings, each
        starting on a character boundary."""
        self.check_bounds(name)
        try:
            self.blob.tobytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{name} is not UTF-8 text") from None
        starts = self.offsets[:-1][self.offsets[:-1] < len(self.blob)]
        if bool(((self.blob[starts] & _UTF8_CONTINUATION_MASK) == _UTF8_CONTINUATION).any()):
            raise ValueError(f"{name} offsets split a UTF-8 character")


class Catalog:
    """Ids, metadata and row numbers of the articles a model holds.

    Parameters
    ----------
    records : sequence of dict
        One dict per row with keys ``id``, ``title``, ``section``, ``url``, ``tags``,
        ``published_at`` (ISO 8601 string), optionally ``language`` (the analysis language's code)
        and ``flags``: the form :meth:`record` returns.
    """

    _FOLD_MIN = FOLD_MIN  # tail rows before they are folded into the arrays (see recommender._segments)

    def __init__(self, records: Sequence[dict] = ()) -> None:
        self._columns = tuple(StringColumn.of(()) for _ in range(3))  # ids, titles, details
        self._hashes = np.empty(0, dtype=np.uint64)  # id hashes of the array rows, sorted
        self._hash_rows = np.empty(0, dtype=np.int64)  # the row of each hash
        self._tail: tuple[list[str], list[str], list[str]] = ([], [], [])
        self._tail_row_of: dict[str, int] = {}
        self._section_names: list[str | None] = []
        self._sections: dict[str | None, int] = {None: -1}
        self.section_codes = np.empty(0, dtype=np.int32)
        self.removed = np.zeros(0, dtype=bool)
        self._n_removed = 0
        self.published = np.empty(0, dtype=np.int64)
        self.by_published = np.empty(0, dtype=np.int64)
        self._published_sorted = np.empty(0, dtype=np.int64)
        self._language_names: list[str] = []
        self._languages: dict[str, int] = {}
        self.language_codes = np.empty(0, dtype=np.int16)  # -1: the record named no language
        self._other_language: dict = {}  # language code -> rows in another language (None -> one_language)
        self._flag_names: list[str] = []
        self.flag_bits = np.empty(0, dtype=np.uint32)  # bit i: the row holds flag _flag_names[i]
        self.section_counts = None  # the archive's (sub)section counts, kept by recommender._reader (copies share it)
        self._aliases: dict[str, str] = {}  # alias id -> canonical id (recommender._aliases)
        self.extend(records)

    # -- arrays (what an artifact stores) ------------------------------------------------------

    @property
    def language_names(self) -> list[str]:
        """The languages of the rows, in code order (what an artifact stores beside ``catalog_languages``)."""
        return list(self._language_names)

    def to_arrays(self) -> tuple[dict[str, np.ndarray], list[str | None]]:
        """The catalogue as plain arrays plus the section names (in code order); the language
        names are :attr:`language_names`.

        Leaves this catalogue as it is (readers may be using it): tail rows are folded into
        new arrays, not into these."""
        columns, hashes, hash_rows = self._folded()
        arrays = {}
        for name, column in zip(("ids", "titles", "details"), columns):
            arrays[f"catalog_{name}_blob"], arrays[f"catalog_{name}_offsets"] = column.blob, column.offsets
        arrays.update(catalog_id_hashes=hashes, catalog_id_rows=hash_rows,
                      catalog_sections=self.section_codes, catalog_published=self.published,
                      catalog_by_published=self.by_published, removed=self.removed.astype(np.uint8),
                      catalog_languages=self.language_codes, catalog_flags=self.flag_bits)
        return arrays, list(self._section_names)

    def facet_names(self) -> dict[str, list[str]]:
        """The names behind :attr:`language_codes` and :attr:`flag_bits`, in code (bit) order."""
        return {"languages": list(self._language_names), "flags": list(self._flag_names)}

    def _set_flags(self, bits: np.ndarray | None, names: list[str] | None, n: int) -> None:
        """Flag bits of a stored catalogue; models saved before flags existed have none."""
        flags = list(names or [])
        bits = np.zeros(n, dtype=np.uint32) if bits is None else bits
        if (bits.shape != (n,) or bits.dtype != np.uint32 or not all(isinstance(x, str) for x in flags)
                or len(flags) > MAX_FLAGS):
            raise ValueError("catalogue flag arrays do not match the articles")
        if n and int(bits.max()) >= 1 << len(flags):
            raise ValueError("catalogue flag bits out of range")
        self.flag_bits, self._flag_names = bits, flags

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], section_names: list[str | None], *,
                    verify: bool = True, facets: dict[str, list[str]] | None = None,
                    default_language: str | None = None) -> Catalog:
        """A catalogue over :meth:`to_arrays` output (mapped arrays stay mapped).

        ``facets`` (:meth:`facet_names`) name the codes of the ``catalog_languages`` and
        ``catalog_flags`` arrays; arrays saved before languages have none, and then every row is
        in ``default_language`` (or names none).
        With ``verify``, everything a lookup relies on is checked (``ValueError`` if not):
        column shapes, the id hashes and their order, unique live ids, section and language codes.
        """
        catalog = cls()
        columns = tuple(StringColumn(arrays[f"catalog_{name}_blob"], arrays[f"catalog_{name}_offsets"])
                        for name in ("ids", "titles", "details"))
        n = len(columns[0])
        removed = arrays["removed"].astype(bool)
        parts = {"catalog_id_hashes": arrays["catalog_id_hashes"], "catalog_id_rows": arrays["catalog_id_rows"],
                 "catalog_sections": arrays["catalog_sections"], "catalog_published": arrays["catalog_published"],
                 "catalog_by_published": arrays["catalog_by_published"], "removed": removed}
        if any(len(column) != n for column in columns) or any(part.shape != (n,) for part in parts.values()):
            raise ValueError(f"catalogue arrays disagree on the number of articles ({n})")
        kinds = [(column.blob, "u1") for column in columns] + [(column.offsets, "i8") for column in columns] + [
            (parts["catalog_id_hashes"], "u8"), (parts["catalog_id_rows"], "i8"), (parts["catalog_sections"], "i4"),
            (parts["catalog_published"], "i8"), (parts["catalog_by_published"], "i8")]
        if any(array.dtype != np.dtype(kind) or array.ndim != 1 for array, kind in kinds):
            raise ValueError("catalogue arrays have unexpected types")
        # row numbers and offsets index other arrays: checked even without verify
        for name, rows in (("id rows", parts["catalog_id_rows"]), ("publication order", parts["catalog_by_published"])):
            if n and (int(rows.min()) < 0 or int(rows.max()) >= n):
                raise ValueError(f"catalogue {name} out of range")
        for name, column in zip(("ids", "titles", "details"), columns):
            column.check_bounds(f"catalogue {name}")
        if n and (int(parts["catalog_sections"].min()) < -1 or int(parts["catalog_sections"].max()) >= len(section_names)):
            raise ValueError("catalogue section codes out of range")
        catalog._columns, catalog.removed, catalog._n_removed = columns, removed, int(removed.sum())
        catalog._hashes, catalog._hash_rows = parts["catalog_id_hashes"], parts["catalog_id_rows"]
        catalog.section_codes, catalog.published = parts["catalog_sections"], parts["catalog_published"]
        catalog.by_published = parts["catalog_by_published"]
        catalog._published_sorted = catalog.published[catalog.by_published] if n else catalog._published_sorted
        catalog._section_names = list(section_names)
        catalog._sections = {None: -1} | {name: code for code, name in enumerate(section_names)}
        facets = facets or {}
        catalog._set_languages(arrays.get("catalog_languages"), facets.get("languages"), default_language, n)
        catalog._set_flags(arrays.get("catalog_flags"), facets.get("flags"), n)
        if verify:
            catalog._check(len(section_names))
        return catalog

    def _set_languages(self, codes: np.ndarray | None, names: list[str] | None, default: str | None, n: int) -> None:
        if codes is None:  # saved before languages: one language for all
            names = [] if default is None else [default]
            codes = np.full(n, 0 if names else -1, dtype=np.int16)
        names = list(names or [])
        if codes.dtype != np.int16 or codes.shape != (n,):
            raise ValueError(f"catalogue language codes are {codes.dtype} of shape {codes.shape} for {n} articles")
        if not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
            raise ValueError("catalogue languages are not unique names")
        if n and (int(codes.min()) < -1 or int(codes.max()) >= len(names)):
            raise ValueError("catalogue language codes out of range")
        self.language_codes, self._language_names = codes, names
        self._languages = {name: code for code, name in enumerate(names)}

    def _check(self, n_sections: int) -> None:
        for name, column in zip(("ids", "titles", "details"), self._columns):
            column.check(f"catalogue {name}")
        if any(bool((column.blob == ord(_SEPARATOR)).any()) for column in self._columns[:2]):
            raise ValueError("catalogue ids or titles hold a NUL character")
        details = self._columns[2]
        separators = np.flatnonzero(details.blob == ord(_SEPARATOR))
        per_row = np.diff(np.searchsorted(separators, details.offsets))
        if bool((per_row < 1).any()):  # url and published_at at least
            raise ValueError("catalogue details lack their url and publication fields")
        ids = list(self._columns[0])
        hashes = np.fromiter((id_hash(i) for i in ids), dtype=np.uint64, count=len(ids))
        n = len(ids)
        if not (np.array_equal(np.sort(self._hash_rows), np.arange(n))
                and np.array_equal(hashes[self._hash_rows], self._hashes) and bool((np.diff(self._hashes) >= 0).all())):
            raise ValueError("catalogue id hashes do not match the ids")
        live = [i for i, gone in zip(ids, self.removed.tolist()) if not gone]
        if len(set(live)) != len(live):
            raise ValueError("an article id is held twice")
        if not (np.array_equal(np.sort(self.by_published), np.arange(n))
                and bool((np.diff(self.published[self.by_published]) >= 0).all())):
            raise ValueError("catalogue publication order is not sorted")

    # -- rows ----------------------------------------------------------------------------------

    def extend(self, records: Iterable[dict], removed: np.ndarray | None = None) -> np.ndarray:
        """Append rows; return their row numbers.

        ``removed`` (a stored model's unpublished rows) marks rows appended as removed:
        their ids are not held, so an id may appear once live and any number of times removed.

        Raises
        ------
        DuplicateArticleError
            When an id is already held (nothing is added then).
        """
        records = list(records)
        removed = np.zeros(len(records), dtype=bool) if removed is None else np.asarray(removed, dtype=bool)
        new_ids: set[str] = set()
        for record, gone in zip(records, removed.tolist()):
            if gone:
                continue
            if record["id"] in self._aliases:
                raise DuplicateArticleError(f"article id is an alias of {self._aliases[record['id']]!r}",
                                            record_id=record["id"])
            if record["id"] in self or record["id"] in new_ids:
                raise DuplicateArticleError("article id is already in the model", record_id=record["id"])
            new_ids.add(record["id"])
        first = len(self)
        codes = [self._section_code_adding(record["section"]) for record in records]
        flag_names = sorted({flag for record in records for flag in record.get("flags", ())} - set(self._flag_names))
        if len(self._flag_names) + len(flag_names) > MAX_FLAGS:
            raise InvalidInputError(f"articles hold {len(self._flag_names) + len(flag_names)} distinct flags, above "
                                    f"the limit of {MAX_FLAGS}")
        seconds = [epoch_seconds(datetime.fromisoformat(record["published_at"])) for record in records]
        ids, titles, details = self._tail
        self._tail = ids, titles, details = list(ids), list(titles), list(details)  # copies: see copy()
        for row, (record, gone) in enumerate(zip(records, removed.tolist()), start=first):
            if not gone:
                self._tail_row_of[record["id"]] = row
            ids.append(record["id"])
            titles.append(record["title"])
            details.append(_SEPARATOR.join([record["url"] or "", record["published_at"], *record["tags"]]))
        self.section_codes = np.concatenate([self.section_codes, np.asarray(codes, dtype=np.int32)])
        self._flag_names = [*self._flag_names, *flag_names]
        bit_of = {name: 1 << bit for bit, name in enumerate(self._flag_names)}
        languages = [self._language_code_adding(record.get("language")) for record in records]
        self.language_codes = np.concatenate([self.language_codes, np.asarray(languages, dtype=np.int16)])
        self._other_language = {}
        self.flag_bits = np.concatenate([self.flag_bits, np.asarray(
            [sum(bit_of[flag] for flag in record.get("flags", ())) for record in records], dtype=np.uint32)])
        self.removed = np.concatenate([self.removed, removed])
        self._n_removed += int(removed.sum())
        self.published = np.concatenate([self.published, np.asarray(seconds, dtype=np.int64)])
        # merge the new rows into publication order (after equal times: ties stay in row order)
        new_rows = np.arange(first, len(self))
        new_order = np.argsort(self.published[new_rows], kind="stable")
        new_rows, new_seconds = new_rows[new_order], self.published[new_rows][new_order]
        at = np.searchsorted(self._published_sorted, new_seconds, side="right")
        self.by_published = np.insert(self.by_published, at, new_rows)
        self._published_sorted = np.insert(self._published_sorted, at, new_seconds)
        self._fold()
        return np.arange(first, len(self))

    def _section_code_adding(self, section: str | None) -> int:
        code = self._sections.get(section)
        if code is None:
            code = self._sections[section] = len(self._section_names)
            self._section_names.append(section)
        return code

    def _language_code_adding(self, language: str | None) -> int:
        if language is None:
            return -1
        code = self._languages.get(language)
        if code is None:
            code = self._languages[language] = len(self._language_names)
            self._language_names.append(language)
        return code

    def flags(self, row: int) -> list[str]:
        """Flags of ``row``, sorted."""
        bits = int(self.flag_bits[row])
        return [name for bit, name in enumerate(self._flag_names) if bits >> bit & 1]

    def flag_mask(self, flag: str) -> int:
        """The bit of ``flag`` in :attr:`flag_bits` (0 for a flag no article holds)."""
        return 1 << self._flag_names.index(flag) if flag in self._flag_names else 0

    def _fold(self) -> None:
        """Move the tail rows into the arrays once there are enough of them."""
        n_tail, n_base = len(self._tail[0]), len(self._columns[0])
        if should_fold(n_tail, n_base, self._FOLD_MIN):
            self._columns, self._hashes, self._hash_rows = self._folded()
            self._tail, self._tail_row_of = ([], [], []), {}

    def _folded(self) -> tuple[tuple[StringColumn, ...], np.ndarray, np.ndarray]:
        """Columns and id-hash index over every row, tail included (new arrays)."""
        n_tail, n_base = len(self._tail[0]), len(self._columns[0])
        if n_tail == 0:
            return self._columns, self._hashes, self._hash_rows
        columns = tuple(StringColumn.of([*column, *tail]) for column, tail in zip(self._columns, self._tail))
        hashes = np.fromiter((id_hash(i) for i in self._tail[0]), dtype=np.uint64, count=n_tail)
        all_hashes = np.concatenate([self._hashes, hashes])
        all_rows = np.concatenate([self._hash_rows, np.arange(n_base, n_base + n_tail)])
        order = np.argsort(all_hashes, kind="stable")
        return columns, all_hashes[order], all_rows[order]

    def copy(self) -> Catalog:
        """An independent catalogue with the same rows (cheap: the arrays are shared, never written)."""
        other = copy.copy(self)  # shares the arrays
        other._tail_row_of, other._sections = dict(self._tail_row_of), dict(self._sections)
        other._section_names = list(self._section_names)
        other._aliases = dict(self._aliases)
        other._languages, other._language_names = dict(self._languages), list(self._language_names)
        other._other_language = {}
        return other  # tail lists are replaced, not appended to, by extend()

    def published_between(self, start: float, end: float) -> np.ndarray:
        """Rows published in ``[start, end]`` (epoch seconds), by binary search."""
        low = np.searchsorted(self._published_sorted, _whole_seconds(start, up=True), side="left")
        high = np.searchsorted(self._published_sorted, _whole_seconds(end, up=False), side="right")
        return self.by_published[low:high]

    def __len__(self) -> int:
        return len(self._columns[0]) + len(self._tail[0])

    def _find(self, article_id: object) -> int | None:
        """Live row of ``article_id`` (of its canonical id, for an alias), or ``None``."""
        if not isinstance(article_id, str):
            return None
        article_id = self._aliases.get(article_id, article_id)
        row = self._tail_row_of.get(article_id)
        if row is not None:
            return row
        if not len(self._hashes):
            return None
        key = np.uint64(id_hash(article_id))
        position = int(np.searchsorted(self._hashes, key))
        while position < len(self._hashes) and self._hashes[position] == key:  # colliding hashes: rare
            row = int(self._hash_rows[position])
            if not self.removed[row] and self._columns[0][row] == article_id:
                return row
            position += 1
        return None

    def __contains__(self, article_id: object) -> bool:
        return self._find(article_id) is not None

    def row(self, article_id: str) -> int:
        """Row of ``article_id``; :class:`UnknownArticleError` if it is not held."""
        row = self._find(article_id)
        if row is None:
            raise UnknownArticleError(article_id)
        return row

    def rows(self, article_ids: Iterable[str]) -> np.ndarray:
        """Rows of several ids (each must be held)."""
        return np.fromiter((self.row(article_id) for article_id in article_ids), dtype=np.int64)

    def remove(self, article_ids: Iterable[str]) -> np.ndarray:
        """Unpublish articles: their ids become unknown and their rows never appear in lists.

        Rows keep their numbers (the matrices are not rewritten); the id may be added
        again later as a new row. Returns the removed rows.
        """
        rows = self.rows(article_ids)
        self.removed = self.removed.copy()
        self.removed[rows] = True
        self._n_removed = int(self.removed.sum())
        for row in rows.tolist():
            self._tail_row_of.pop(self.id(row), None)
        return rows

    @property
    def n_live(self) -> int:
        """Articles held and not removed (what :attr:`Recommender.article_ids` lists, without listing them)."""
        return len(self) - self._n_removed

    @property
    def any_removed(self) -> bool:
        """Whether some rows are unpublished (list builders then mask them)."""
        return self._n_removed > 0

    @property
    def aliases(self) -> dict[str, str]:
        """Alias ids and the canonical id each stands for (a copy): lookups of an alias find
        its canonical article's row; the alias's own row is unpublished."""
        return dict(self._aliases)

    def set_aliases(self, aliases: dict[str, str]) -> None:
        """Replace the alias map (validated by :mod:`recommender._aliases`; on copies only)."""
        self._aliases = dict(aliases)

    def known_rows(self, article_ids: Iterable[str]) -> np.ndarray:
        """Rows of those ids that are held; others are ignored (for exclusion lists)."""
        found = (self._find(article_id) for article_id in article_ids)
        return np.fromiter((row for row in found if row is not None), dtype=np.int64)

    def _value(self, part: int, row: int) -> str:
        n_base = len(self._columns[part])
        return self._columns[part][row] if row < n_base else self._tail[part][row - n_base]

    def id(self, row: int) -> str:
        """Article id of ``row``."""
        return self._value(0, row)

    def ids_of(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        """Article ids of ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        n_base = len(self._columns[0])
        if not len(rows) or rows.max() < n_base:
            return self._columns[0].take(rows)
        return [self.id(row) for row in rows.tolist()]

    def display(self, rows: Sequence[int] | np.ndarray) -> list[dict]:
        """What a page renders of ``rows``, in one pass: ``article_id``, ``title``, ``url``
        (``None`` for none), ``section`` and ``published_at`` (the ISO 8601 text), as
        :class:`~recommender.Hit` fields."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return []
        if rows.max() < len(self._columns[0]):
            ids, titles, details = (column.take(rows) for column in self._columns)
        else:
            listed = rows.tolist()
            ids, titles, details = ([self._value(part, row) for row in listed] for part in range(3))
        cards = []
        for row, article_id, title, detail in zip(rows.tolist(), ids, titles, details):
            url, published_at = detail.split(_SEPARATOR, 2)[:2]
            cards.append({"article_id": article_id, "title": title, "url": url or None,
                          "section": self.section(row), "published_at": published_at})
        return cards

    def ids(self) -> list[str]:
        """Ids of every row, in row order (removed rows included)."""
        return [*self._columns[0], *self._tail[0]]

    def record(self, row: int) -> dict:
        """The stored metadata of ``row``: ``id``, ``title``, ``section``, ``url``, ``tags``,
        ``published_at``, ``language`` and ``flags``."""
        if not -len(self) <= row < len(self):
            raise IndexError(row)
        row = row % len(self)
        url, published_at, *tags = self._value(2, row).split(_SEPARATOR)
        return {"id": self.id(row), "title": self._value(1, row), "section": self.section(row),
                "url": url or None, "tags": tags, "published_at": published_at, "language": self.language(row),
                "flags": self.flags(row)}

    def section(self, row: int) -> str | None:
        """Section name of ``row`` (``None`` for none)."""
        code = int(self.section_codes[row])
        return None if code < 0 else self._section_names[code]

    def first_tag(self, row: int) -> str | None:
        """The first tag of ``row`` (its subsection), ``None`` for none."""
        tags = self._value(2, row).split(_SEPARATOR, 3)[2:3]
        return tags[0] if tags else None

    def first_tags(self, start: int = 0) -> list[str | None]:
        """:meth:`first_tag` of every row from ``start`` on, in one pass over the column."""
        n_base = len(self._columns[2])
        details = self._columns[2].take(np.arange(start, n_base)) if start < n_base else []
        details += self._tail[2][max(start - n_base, 0):]
        return [parts[2] if len(parts) > 2 else None for parts in (detail.split(_SEPARATOR, 3) for detail in details)]

    def language(self, row: int) -> str | None:
        """Language code of ``row`` (``None`` for a record that named none)."""
        code = int(self.language_codes[row])
        return None if code < 0 else self._language_names[code]

    def language_code(self, language: str | None) -> int:
        """Internal code of a language; ``-1`` for none, ``-2`` for a language no article has."""
        return -1 if language is None else self._languages.get(language, -2)

    @property
    def one_language(self) -> bool:
        """Whether every row is in one language (a language filter then changes nothing)."""
        one = self._other_language.get(None)  # cached beside the masks, reset with them
        if one is None:
            one = self._other_language[None] = len(self._language_names) + bool((self.language_codes < 0).any()) <= 1
        return one

    def other_language(self, code: int) -> np.ndarray:
        """Rows whose language is not ``code`` (boolean over every row; computed once per code)."""
        mask = self._other_language.get(code)
        if mask is None:
            mask = self._other_language[code] = self.language_codes != code
        return mask

    def section_code(self, section: str | None) -> int:
        """Internal code of a section name; ``-2`` for a section no article has."""
        return self._sections.get(section, -2)
