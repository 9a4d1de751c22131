"""Catalog: columns of ids and metadata, id lookup through sorted hashes, tail rows folded in."""

from __future__ import annotations

import numpy as np
import pytest

from recommender import _catalog as catalog_module
from recommender._catalog import Catalog, StringColumn
from recommender.exceptions import DuplicateArticleError, UnknownArticleError


def record(article_id: str, section: str | None = "news", **extra) -> dict:
    return {"id": article_id, "title": f"Title of {article_id} — ünïcode", "section": section, "url": None,
            "tags": [], "published_at": "2026-10-01T08:00:00+02:00", "language": None, "flags": [], **extra}


def test_string_column_round_trips_empty_and_non_ascii_strings():
    values = ["", "a", "Zürich — 東京", "", "x" * 1000]
    column = StringColumn.of(values)
    assert [column[i] for i in range(len(values))] == values == list(column)
    column.check("test")
    broken = StringColumn(column.blob, column.offsets[::-1].copy())
    with pytest.raises(ValueError, match="offsets"):
        broken.check("test")


def test_records_round_trip_through_arrays_with_every_field():
    records = [record("a"), record("b", section=None, url="https://example.com/b", tags=["port", "strike"]),
               record("c", section="sport", published_at="2026-10-02T00:00:00Z", language="es",
                      flags=["opinion", "paywalled"])]
    catalog = Catalog(records)
    assert [catalog.record(row) for row in range(len(catalog))] == records
    arrays, sections = catalog.to_arrays()
    loaded = Catalog.from_arrays(arrays, sections, facets=catalog.facet_names())
    assert [loaded.record(row) for row in range(len(loaded))] == records
    assert [loaded.row(r["id"]) for r in records] == [0, 1, 2]
    assert loaded.section(1) is None and loaded.section(2) == "sport"
    assert loaded.section_code("sport") == catalog.section_code("sport")
    assert np.array_equal(loaded.published, catalog.published)
    assert loaded.language(2) == "es" and loaded.flags(2) == ["opinion", "paywalled"] and loaded.flags(0) == []


def test_lookups_survive_colliding_hashes_removal_and_re_adding(monkeypatch):
    monkeypatch.setattr(catalog_module, "id_hash", lambda article_id: 7)  # every id collides
    monkeypatch.setattr(Catalog, "_FOLD_MIN", 2)
    catalog = Catalog([record(f"id-{i}") for i in range(5)])
    assert [catalog.row(f"id-{i}") for i in range(5)] == list(range(5))
    catalog.remove(["id-3"])
    assert "id-3" not in catalog and catalog.any_removed and catalog.n_live == len(catalog) - 1
    with pytest.raises(UnknownArticleError):
        catalog.row("id-3")
    assert catalog.extend([record("id-3")]).tolist() == [5]  # the id comes back as a new row
    assert catalog.row("id-3") == 5 and catalog.id(3) == "id-3"
    with pytest.raises(DuplicateArticleError):
        catalog.extend([record("id-1")])
    arrays, sections = catalog.to_arrays()
    assert catalog._tail[0] == ["id-3"]  # saving leaves a catalogue that readers may hold as it was
    loaded = Catalog.from_arrays(arrays, sections)
    assert loaded.row("id-3") == 5 and loaded.removed[3]
    assert loaded.known_rows(["id-0", "nope", "id-3"]).tolist() == [0, 5]


def test_copies_are_independent_while_tail_rows_fold_into_the_arrays(monkeypatch):
    monkeypatch.setattr(Catalog, "_FOLD_MIN", 3)
    base = Catalog([record(f"a{i}") for i in range(40)])
    grown = base.copy()
    grown.extend([record("new-1")])  # stays in the tail: 1 row < 5 % of 40 and < 3
    assert "new-1" in grown and "new-1" not in base and len(base) == 40
    grown.extend([record(f"more-{i}") for i in range(3)])  # folds the tail into the arrays
    assert len(grown._tail[0]) == 0 and len(grown) == 44
    assert [grown.row(i) for i in ("a0", "new-1", "more-2")] == [0, 40, 43]
    assert "more-2" not in base and base.row("a39") == 39


def test_corrupt_arrays_are_refused():
    arrays, sections = Catalog([record("a"), record("b")]).to_arrays()
    swapped = dict(arrays, catalog_id_hashes=arrays["catalog_id_hashes"][::-1].copy())
    with pytest.raises(ValueError, match="hashes"):
        Catalog.from_arrays(swapped, sections)
    with pytest.raises(ValueError, match="number of articles"):
        Catalog.from_arrays(dict(arrays, catalog_published=arrays["catalog_published"][:1]), sections)
    with pytest.raises(ValueError, match="section codes"):
        Catalog.from_arrays(arrays, [])
    floats = dict(arrays, catalog_id_hashes=arrays["catalog_id_hashes"].astype(np.float64))
    with pytest.raises(ValueError, match="types"):
        Catalog.from_arrays(floats, sections, verify=False)  # checked even when checksums are not


def test_published_between_takes_whole_second_times_within_any_float_bounds():
    times = ["2026-10-01T08:00:00Z", "2026-10-01T08:00:01Z", "2026-10-01T08:00:01Z", "2026-09-30T23:59:59Z",
             "2026-10-02T00:00:00Z"]
    catalog = Catalog([record(f"a{i}", published_at=at) for i, at in enumerate(times)])
    published = catalog.published.astype(np.float64)
    first = float(published.min())
    bounds = [-np.inf, np.inf, first, first - 0.5, first + 0.5, first + 1.0, first + 28801.0, first + 28800.5,
              first + 1e6, -1e30, 1e30]
    for start in bounds:
        for end in bounds:
            expected = sorted(np.flatnonzero((published >= start) & (published <= end)).tolist())
            assert sorted(catalog.published_between(start, end).tolist()) == expected, (start, end)


def test_first_tags_read_every_row_from_a_start_in_the_arrays_and_the_tail():
    built = Catalog([record("a", tags=["port", "strike"]), record("b"), record("c", tags=["vote"])])
    arrays, sections = built.to_arrays()
    catalog = Catalog.from_arrays(arrays, sections, facets=built.facet_names())  # rows in the arrays
    catalog.extend([record("d", tags=["derby", "final"]), record("e")])  # rows in the tail
    assert len(catalog._columns[2]) == 3 and len(catalog._tail[0]) == 2
    assert catalog.first_tags() == ["port", None, "vote", "derby", None]
    for start in range(6):
        assert catalog.first_tags(start) == [catalog.first_tag(row) for row in range(start, len(catalog))]
