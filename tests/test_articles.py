"""Loading and validating articles: readers, to_article, load_articles, parse_datetime."""

from __future__ import annotations

import csv
import gzip
import json
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from recommender._articles import Article, ArticleLimits, load_articles, parse_datetime, to_article
from recommender.exceptions import DuplicateArticleError, InvalidInputError, RecommenderError
from recommender._readers import iter_records

WHEN = "2026-10-03T08:15:00+00:00"
FIELDS = ["id", "title", "body", "published_at", "section", "url", "tags", "language"]
RECORDS = [
    {"id": "a1", "title": "Storm hits Calden", "body": "The storm hit the coast.", "published_at": WHEN,
     "section": "world", "url": "https://example.org/a1", "tags": ["storm", "calden"], "language": "en"},
    {"id": "a2", "title": "Port strike ends", "body": "Dock workers accepted a deal.", "published_at": "2026-10-04T09:00:00Z",
     "section": "business", "url": "https://example.org/a2", "tags": ["port"], "language": "en"},
]


def rec(i="x1", **fields):
    return {"id": i, "title": "T", "body": "Some body text.", "published_at": WHEN, **fields}


def write_jsonl(path, records, *, raw_lines=()):
    lines = [json.dumps(r).encode() for r in records] + [bytes(x) for x in raw_lines]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def load_one(record, **kw):
    return load_articles([record], **kw)[0]


def invalid(record, **kw) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        load_articles([record], **kw)
    assert "<iterable>" in str(info.value) and info.value.line == 1
    return info.value


# ---------------------------------------------------------------- valid inputs
def test_jsonl_loads_all_fields(tmp_path):
    articles = load_articles(write_jsonl(tmp_path / "a.jsonl", RECORDS))
    assert [a.id for a in articles] == ["a1", "a2"]
    a = articles[0]
    assert (a.title, a.body, a.section, a.url, a.language) == (
        "Storm hits Calden", "The storm hit the coast.", "world", "https://example.org/a1", "en")
    assert a.tags == ("storm", "calden")
    assert a.published_at == datetime(2026, 10, 3, 8, 15, tzinfo=timezone.utc)
    assert a.published_at.utcoffset() == timedelta(0)
    assert articles[1].published_at == datetime(2026, 10, 4, 9, 0, tzinfo=timezone.utc)  # "Z" suffix


def test_csv_gives_same_articles_as_jsonl(tmp_path):
    path = tmp_path / "a.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows({**r, "tags": ",".join(r["tags"])} for r in RECORDS)
    assert load_articles(path) == load_articles(write_jsonl(tmp_path / "a.jsonl", RECORDS))


def test_csv_line_numbers_are_physical_lines(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text('id,body,published_at\nm1,"line one\nline two",' + WHEN + '\nm2,"x",not-a-date\n', encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_articles(path)
    assert info.value.line == 4 and "multi.csv:4" in str(info.value) and info.value.record_id == "m2"
    assert [line for _, line, _ in iter_records(path)] == [2, 4]


def test_gzip_iterable_and_article_passthrough(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"\n".join(json.dumps(r).encode() for r in RECORDS))
    from_gz = load_articles(path)
    assert from_gz == load_articles(RECORDS) == load_articles(iter(RECORDS))
    assert load_articles(from_gz) == from_gz
    assert to_article(from_gz[0]) == from_gz[0]


def test_blank_lines_and_bom(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(rec("b1")).encode() + b"\n\n   \n" + json.dumps(rec("b2")).encode() + b"\n\n")
    assert [(a.id) for a in load_articles(path)] == ["b1", "b2"]
    assert [line for _, line, _ in iter_records(path)] == [1, 4]
    csv_path = tmp_path / "bom.csv"
    csv_path.write_bytes(b"\xef\xbb\xbfid,body,published_at\r\n\r\nc1,hello," + WHEN.encode() + b"\r\n")
    assert load_articles(csv_path)[0].id == "c1"


# ---------------------------------------------------------------- unreadable files
@pytest.mark.parametrize("raw, message", [
    (b'{"id": "b2", "body": ', "malformed JSON"),
    (b'["b2", "body"]', "expected an object"),
    (b'{"id": "b2", "body": "\xff\xfe"}', "UTF-8"),
])
def test_bad_jsonl_line_names_file_and_line(tmp_path, raw, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [rec("g1"), rec("g2")], raw_lines=[raw])
    with pytest.raises(InvalidInputError) as info:
        load_articles(path)
    assert "bad.jsonl:3" in str(info.value) and info.value.line == 3 and message in str(info.value)


def test_csv_row_with_wrong_field_count(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(f"id,body,published_at\nc1,ok,{WHEN}\nc2,too,many,{WHEN}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_articles(path)
    assert "bad.csv:3" in str(info.value) and info.value.line == 3 and "expected 3 fields" in str(info.value)


def test_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "a.txt").write_text("{}\n")
    with pytest.raises(InvalidInputError, match=r"a\.txt.*\.jsonl or \.csv"):
        load_articles(tmp_path / "a.txt")
    with pytest.raises(InvalidInputError, match=r"missing\.jsonl: cannot open") as info:
        load_articles(str(tmp_path / "missing.jsonl"))
    assert info.value.source.endswith("missing.jsonl") and info.value.line is None
    for not_a_source in ({"id": "x"}, b"bytes", 42):
        with pytest.raises(InvalidInputError, match="expected a file path"):
            load_articles(not_a_source)


# ---------------------------------------------------------------- record validation
@pytest.mark.parametrize("record, fragment", [
    ({"title": "T", "body": "b", "published_at": WHEN}, "missing required field 'id'"),
    (rec(body=None), "missing required field 'body'"),
    ({"id": "x1", "title": "T", "published_at": WHEN}, "missing required field 'body'"),
    (rec(body=""), "empty"),
    (rec(body="<p> </p>"), "empty"),
    (rec(body="  \n\t "), "empty"),
    (rec(published_at=None), "missing required field 'published_at'"),
    (rec(published_at="2026-10-03T08:15:00"), "time zone"),
    (rec(published_at=datetime(2026, 10, 3)), "time zone"),
    (rec(published_at="yesterday"), "not an ISO 8601"),
    (rec(published_at=1700000000), "must be an ISO 8601 string or a datetime"),
    (rec(body=42), "body must be a string, got int"),
    (rec(" x1 "), "without surrounding spaces"),
    (rec(""), "non-empty"),
    (rec(True), "id must be a string, got bool"),
    (rec(1.5), "id must be a string, got float"),
    (rec(body="a\x00b"), "NUL"),
    (rec(tags=[1, 2]), "tags must be a list of strings"),
    (rec(section=["world"]), "section must be a string"),
])
def test_invalid_record_message(record, fragment):
    err = invalid(record)
    assert fragment in err.reason
    assert isinstance(err, ValueError) and isinstance(err, RecommenderError)
    if isinstance(record.get("id"), str):
        assert err.record_id == record["id"] and repr(record["id"]) in str(err)


def test_body_and_id_limits():
    err = invalid(rec(body="x" * 101), limits=ArticleLimits(max_body_chars=100))
    assert "limit" in err.reason and "101" in err.reason
    assert "limit" in invalid(rec("i" * 300)).reason
    assert "limit" in invalid(rec(title="t" * 2001)).reason


def test_title_may_be_missing_and_int_id_becomes_str():
    a = load_one({"id": 7, "body": "text", "published_at": WHEN})
    assert a.id == "7" and a.title == "" and a.tags == () and a.section is None and a.url is None


def test_to_article_direct_context():
    with pytest.raises(InvalidInputError) as info:
        to_article(rec("z9", body=""), source="feed.jsonl", line=12)
    assert str(info.value).startswith("feed.jsonl:12, id 'z9': ")
    with pytest.raises(InvalidInputError, match="record 5"):
        to_article("not a mapping", line=5)


def test_parse_datetime():
    assert parse_datetime("2026-10-03T08:15:00Z") == datetime(2026, 10, 3, 8, 15, tzinfo=timezone.utc)
    assert parse_datetime(" 2026-10-03T10:15:00+02:00 ").utcoffset() == timedelta(hours=2)
    aware = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_datetime(aware) is aware
    with pytest.raises(ValueError, match="time zone"):
        parse_datetime("2026-10-03")
    with pytest.raises(ValueError, match="^when 'soon'"):
        parse_datetime("soon", what="when")


def test_duplicate_id_names_second_line_and_first(tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [rec("d1"), rec("d2"), rec("d1")])
    with pytest.raises(DuplicateArticleError) as info:
        load_articles(path)
    err = info.value
    assert isinstance(err, InvalidInputError) and isinstance(err, ValueError)
    assert err.line == 3 and err.record_id == "d1" and "dup.jsonl:3" in str(err)
    assert f"first seen at {path}:1" in str(err)


# ---------------------------------------------------------------- lenient mode
J = lambda r: json.dumps(r).encode()  # noqa: E731
BAD_SETS = {
    "validation": [J(rec("b1", body="")), J(rec("b2", published_at="2026-01-01")), J(rec("g1")), J(["a", "list"])],
    "unreadable": [b'{"id": "b1", "body": ', b'{"id": "b2", "body": "\xff\xfe"}', b"[1, 2]", b"{not json"],
}


@pytest.mark.parametrize("kind", BAD_SETS)
def test_lenient_mode_collects_and_keeps_order(tmp_path, kind):
    good = [J(rec(f"g{i}", body=f"good body {i}")) for i in range(5)]
    bad = BAD_SETS[kind]
    mixed = [good[0], bad[0], good[1], bad[1], good[2], bad[2], good[3], bad[3], good[4]]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(mixed) + b"\n\n")
    errors: list[InvalidInputError] = []
    kept = load_articles(path, errors=errors)
    assert len(mixed) == len(kept) + len(errors) == 9
    assert [a.id for a in kept] == [f"g{i}" for i in range(5)]
    assert [e.line for e in errors] == [2, 4, 6, 8]
    assert all(isinstance(e, InvalidInputError) and f"mixed.jsonl:{e.line}" in str(e) for e in errors)
    if kind == "validation":
        assert isinstance(errors[2], DuplicateArticleError) and "first seen at" in str(errors[2])
    else:
        assert "malformed JSON" in str(errors[0]) and "UTF-8" in str(errors[1])
    with pytest.raises(InvalidInputError) as info:  # strict mode stops at the first bad line
        load_articles(path)
    assert info.value.line == 2


def test_lenient_mode_csv(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,body,published_at\nc1,ok," + WHEN.encode() + b"\nc2,too,many,x\nc3,\xff\xfe,"
                     + WHEN.encode() + b"\nc4,,x\nc5,fine," + WHEN.encode() + b"\n")
    errors: list[InvalidInputError] = []
    assert [a.id for a in load_articles(path, errors=errors)] == ["c1", "c5"]
    assert [(e.line, e.reason[:8]) for e in errors] == [(3, "expected"), (4, "not vali"), (5, "missing ")]


def test_marked_section_body_is_not_a_crash():
    a, b = load_articles([rec("m1", body="<p>Use <![ x ]> here</p>"), rec("m2", body="<![foo[ bar")])
    assert (a.body, b.body) == ("Use here", "<![foo[ bar")  # no '>': not markup, kept as text


# ---------------------------------------------------------------- cleaning
def test_html_bodies_and_titles_become_text():
    a = load_one(rec(title="<b>Storm</b> &amp; <i>surge</i>", body="<p>a</p><p>b &lt; c&nbsp;d</p><script>evil()</script>"))
    assert a.title == "Storm & surge"
    assert a.body == "a\nb < c d"
    assert "evil" not in a.body
    assert load_one(rec(body="ring\x07bell\x1b end", title="t\x7fx")).body == "ring bell end"


def test_revalidating_an_article_does_not_change_it():
    a = load_one(rec(body="<p>Use the &lt;b&gt; tag for bold.</p>"))
    assert a.body == "Use the <b> tag for bold."
    assert to_article(a) == a


def test_deep_html_and_large_body():
    deep = load_one(rec(body="<div>" * 100_000 + "deep text" + "</div>" * 100_000))
    assert deep.body == "deep text"
    big = "word " * 1_000_000
    assert len(load_one(rec(body=big), limits=ArticleLimits(max_body_chars=6_000_000)).body) == len(big) - 1
    assert "limit" in invalid(rec(body=big)).reason


# ---------------------------------------------------------------- pandas
def test_dataframe_input_with_nan():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame([rec("p1", section="world", tags="a, b"), rec("p2", url="https://e.org")])
    assert math.isnan(df.loc[1, "section"])
    a, b = load_articles(df)
    assert (a.section, a.tags, a.url) == ("world", ("a", "b"), None)
    assert (b.id, b.section, b.tags, b.url) == ("p2", None, (), "https://e.org")
    df.loc[1, "body"] = float("nan")
    with pytest.raises(InvalidInputError, match=r"<dataframe>:2, id 'p2': missing required field 'body'"):
        load_articles(df)


# ---------------------------------------------------------------- property
_tz = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_text = st.text(max_size=40) | st.sampled_from(["<p>x</p>", "<![ x ]>", "&amp;", "<script>s</script>", " "])
_value = st.one_of(
    st.none(), _text, st.integers(), st.booleans(), st.floats(), st.lists(_text, max_size=3),
    st.datetimes(), st.datetimes(timezones=_tz), st.dictionaries(_text, st.integers(), max_size=2),
    st.sampled_from([WHEN, "2026-10-03T08:15:00Z", "2026-10-03", "<p>x</p>", "<p> </p>", "a\x00"]),
)
_valid = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", 3, 4]), "body": _text,
     "published_at": st.one_of(st.sampled_from([WHEN, "2026-10-03T08:15:00Z"]), st.datetimes(timezones=_tz))},
    optional={"title": _text, "section": _text, "tags": st.lists(_text, max_size=3), "extra": _value},
)
_mostly_valid = st.tuples(_valid, st.one_of(st.none(), st.sampled_from(FIELDS)), _value).map(
    lambda t: t[0] if t[1] is None else {**t[0], t[1]: t[2]})  # at most one field replaced by junk
_random_dict = st.dictionaries(st.sampled_from(FIELDS + ["extra"]), _value, max_size=9)
# Weighted: 60% mostly valid records, 20% random dicts, 20% anything (non-mappings).
_record = st.integers(0, 9).flatmap(lambda n: _mostly_valid if n < 6 else _random_dict if n < 8 else _value)


@settings(max_examples=200, deadline=None)
@given(st.lists(_record, max_size=6))
def test_load_articles_only_raises_invalid_input(records):
    try:
        articles = load_articles(records)
    except InvalidInputError:
        pass
    else:
        assert all(isinstance(a, Article) and a.body and a.published_at.utcoffset() is not None for a in articles)
    errors: list[InvalidInputError] = []
    kept = load_articles(records, errors=errors)
    assert len(kept) + len(errors) == len(records)
    assert len({a.id for a in kept}) == len(kept)
