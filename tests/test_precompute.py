"""Batch lists: equal to single calls; SQLite and JSONL agree; atomic, resumable, parallel, Dask."""

from __future__ import annotations

import copy
import importlib.util
import os

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender import InvalidOptionError, Recommender, load_reactions
from recommender.cli import main
from recommender.datasets import sample_reactions_path
from recommender._precompute import precompute
from recommender._related.time_prior import TimePrior

NOW = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def saved(sample_articles, tmp_path_factory):
    rec = Recommender().fit(sample_articles, reactions=load_reactions(sample_reactions_path()))
    path = tmp_path_factory.mktemp("model") / "m"
    rec.save(path)
    return rec, path


def read_lists(database, name="related"):
    conn = sqlite3.connect(database)
    try:
        rows = conn.execute("SELECT article_id, item_id, score FROM lists WHERE list = ? ORDER BY article_id, rank",
                            (name,)).fetchall()
    finally:
        conn.close()
    lists: dict[str, list] = {}
    for article_id, item, score in rows:
        lists.setdefault(article_id, []).append((item, score))
    return lists


def test_related_batch_equals_a_loop_of_single_calls(sample_model):
    ids, scores = sample_model.related_batch(k=10, block_size=7)
    assert ids.shape == scores.shape == (len(sample_model.article_ids), 10)
    for i, article_id in enumerate(sample_model.article_ids):
        single = full_product_related(sample_model, article_id, 10)
        assert sample_model.related(article_id, k=10) == single
        assert [h.article_id for h in single] == [x for x in ids[i] if x]
        np.testing.assert_array_equal(np.array([h.score for h in single], dtype=np.float32), scores[i][: len(single)])
        assert np.isnan(scores[i][len(single):]).all()
    some = sample_model.article_ids[5:9]
    sub_ids, _ = sample_model.related_batch(some, k=3)
    assert [list(row) for row in sub_ids] == [[h.article_id for h in sample_model.related(a, k=3)] + [""] * (3 - len(sample_model.related(a, k=3))) for a in some]


@pytest.fixture(scope="module")
def grown_model():
    """A synthetic archive with articles added after the fit (the profiles' overlay) and some removed."""
    from recommender.evaluation.synthetic import generate_articles

    articles = list(generate_articles(1_500, seed=11))
    model = Recommender(neighbours=20).fit(articles[:1_400])
    model.add_articles(articles[1_400:])
    model.remove_articles([a["id"] for a in articles[::97]])
    return model


def full_product_related(model, article_id, k, **filters):
    """``related()`` through the full product over the archive (``strategy="full"``), never the profiles' bounds."""
    full = copy.copy(model).set_params(strategy="full")  # shares the fitted state
    return full.related(article_id, k=k, **filters)


@pytest.mark.parametrize("k", [1, 10, 40])
def test_pruned_batch_and_related_equal_the_full_product_bit_for_bit(grown_model, k):
    ids, scores = grown_model.related_batch(k=k, block_size=300)
    for i, article_id in enumerate(grown_model.article_ids):
        full = full_product_related(grown_model, article_id, k)
        assert [h.article_id for h in full] == [x for x in ids[i] if x], article_id
        np.testing.assert_array_equal(np.array([h.score for h in full], dtype=np.float32), scores[i][: len(full)])
        assert grown_model.related(article_id, k=k) == full  # ids, scores and explanations


@pytest.mark.parametrize("filters", [{"same_section": True}, {"same_section": False}, {"max_age": timedelta(days=3)},
                                     {"same_section": True, "max_age": timedelta(days=30)}])
def test_filtered_related_from_the_profiles_equals_the_full_product(grown_model, filters):
    from recommender._related import filtered_out
    from recommender._related.pruned import pruned_lists

    profiled = copy.copy(grown_model).set_params(strategy="profiles")
    state = grown_model._state
    settled = []
    for article_id in grown_model.article_ids:
        hits = profiled.related(article_id, k=10, **filters)
        assert hits == full_product_related(grown_model, article_id, 10, **filters), article_id
        query = profiled._related_query(10, exclude_rows=np.zeros(0, np.int64), same_section=filters.get("same_section"),
                                        section_code=int(state.catalog.section_codes[state.catalog.row(article_id)]),
                                        published=int(state.catalog.published[state.catalog.row(article_id)]),
                                        max_age_seconds=int(filters["max_age"].total_seconds()) if "max_age" in filters
                                        else None)
        row = np.array([state.catalog.row(article_id)])
        chosen = pruned_lists(state, row, 10, grown_model.duplicate_threshold, grown_model.min_similarity,
                              filtered_out(state.catalog, query))[0]
        settled.append(chosen is not None)
    assert sum(settled) > 0.2 * len(settled)  # the bounds settle many filtered lists too


@pytest.mark.parametrize("prior", [None, TimePrior(1.0, 0.5), TimePrior(3.0, 0.0)])
def test_score_bounds_settle_most_lists_without_the_full_product(grown_model, prior):
    """With or without the time prior, which decays exact scores under their bounds."""
    from recommender._related.full import full_lists
    from recommender._related.pruned import pruned_lists

    state = grown_model._state
    rows = state.catalog.rows(grown_model.article_ids)
    pruned = pruned_lists(state, rows, 10, grown_model.duplicate_threshold, grown_model.min_similarity, prior=prior)
    settled = [position for position, hits in enumerate(pruned) if hits is not None]
    assert len(settled) > 0.9 * len(rows)  # the point of the bounds; the rest take the full product
    full = full_lists(state, rows[settled], 10, grown_model.duplicate_threshold, grown_model.min_similarity,
                      prior=prior)
    assert [pruned[position] for position in settled] == full
    if prior is not None:  # the prior changes lists here: the equality above is not the undecayed one
        assert full != full_lists(state, rows[settled], 10, grown_model.duplicate_threshold,
                                  grown_model.min_similarity)


@pytest.mark.parametrize("prior", [None, TimePrior(1.0, 0.5)])
def test_lists_held_open_only_by_unlinked_articles_settle_on_their_pairs(grown_model, prior, monkeypatch):
    """Where only the bound on articles with no link to the row is in the way, the few that
    could reach the list are scored pair by pair: exact lists, without the full product."""
    from recommender._related import pruned
    from recommender._related.full import full_lists

    state, k = grown_model._state, 40
    rows = state.catalog.rows(grown_model.article_ids)
    search = (state, rows, k, grown_model.duplicate_threshold, grown_model.min_similarity)
    with_pairs = pruned.pruned_lists(*search, prior=prior)
    monkeypatch.setattr(pruned, "_unlinked_hits", lambda *args: None)
    without = pruned.pruned_lists(*search, prior=prior)
    gained = [i for i, (hits, before) in enumerate(zip(with_pairs, without)) if hits is not None and before is None]
    assert all(hits is not None for hits, before in zip(with_pairs, without) if before is not None)
    assert len(gained) > 0.03 * len(rows)
    assert [with_pairs[i] for i in gained] == full_lists(state, rows[gained], k, grown_model.duplicate_threshold,
                                                         grown_model.min_similarity, prior=prior)
    profiles = state.profiles
    overlap = profiles.overlap(profiles.select(rows[gained]))
    unlinked = [column for i, position in enumerate(gained) for column, _ in with_pairs[position]
                if column not in set(profiles.row(rows[position])[0].tolist()) | set(overlap[i].indices.tolist())
                and rows[position] not in profiles.row(column)[0]]
    if prior is not None:  # the prior lowers the lists' last scores below some unlinked articles
        assert unlinked


def test_batch_takes_the_full_product_where_kernels_round_differently(monkeypatch):
    """A platform whose kernels sum differently (fused multiply-add) must not get pruned lists."""
    from recommender._index import CosineIndex
    from recommender._related import resolve_strategy
    from recommender.evaluation.synthetic import generate_articles

    model = Recommender(neighbours=10).fit(list(generate_articles(300, seed=5)))
    exact = CosineIndex.pair_cosines
    # a platform whose pair kernel rounds one unit apart from the full product's
    monkeypatch.setattr(CosineIndex, "pair_cosines",
                        lambda self, left, right: np.nextafter(exact(self, left, right), np.float32(2)))
    assert resolve_strategy("auto", model._state) == "full"
    assert resolve_strategy("profiles", model._state) == "profiles"  # asked for by name: taken anyway
    ids, _ = model.related_batch(k=5)
    assert [[x for x in row if x] for row in ids] == [[h.article_id for h in model.related(a, k=5)]
                                                      for a in model.article_ids]


@pytest.mark.parametrize("compiled", [True, False])
def test_pair_cosines_equal_the_full_product_bit_for_bit(grown_model, compiled, monkeypatch):
    if compiled:
        pytest.importorskip("numba")
    else:  # scipy's kernels only
        monkeypatch.setattr("recommender._index.cross_cosines", lambda *args: False)
    index = grown_model.index_
    rng = np.random.default_rng(1)
    left, right = rng.integers(0, index.n_rows, 400), rng.integers(0, index.n_rows, 400)
    expected = [index.scores(index.row_vector(a))[b] for a, b in zip(left, right)]
    np.testing.assert_array_equal(index.pair_cosines(left, right), np.array(expected, dtype=np.float32))
    one = np.full(len(right), left[0])  # one query's pairs (no reordering), in any order of right
    np.testing.assert_array_equal(index.pair_cosines(one, right), index.scores(index.row_vector(left[0]))[right])
    assert index.pair_cosines(np.array([], dtype=int), np.array([], dtype=int)).shape == (0,)


def test_jsonl_items_can_carry_what_a_page_renders(saved, tmp_path):
    rec, model = saved
    precompute(model, tmp_path / "lists.sqlite", jsonl=tmp_path / "lists.jsonl", jsonl_fields=True, block_size=64)
    record = json.loads((tmp_path / "lists.jsonl").read_text().splitlines()[0])
    hits = rec.related(record["article_id"])
    assert [item["id"] for item in record["items"]] == [hit.article_id for hit in hits]
    for item, hit in zip(record["items"], hits):
        assert (item["title"], item["url"], item["section"], item["published_at"]) == (
            hit.title, hit.url, hit.section, hit.published_at)


def test_sqlite_and_jsonl_hold_the_same_lists_as_single_calls(saved, tmp_path):
    rec, model = saved
    report = precompute(model, tmp_path / "lists.sqlite", jsonl=tmp_path / "lists.jsonl", block_size=16)
    assert report.blocks == 5 and report.blocks_resumed == 0
    from_sql = read_lists(tmp_path / "lists.sqlite")
    for article_id in rec.article_ids:
        expected = [(h.article_id, pytest.approx(h.score, rel=1e-6)) for h in rec.related(article_id)]
        assert from_sql.get(article_id, []) == expected
    from_jsonl = {}
    for line in (tmp_path / "lists.jsonl").read_text().splitlines():
        record = json.loads(line)
        from_jsonl[record["article_id"]] = [(item["id"], item["score"]) for item in record["items"]]
    assert from_jsonl == from_sql
    assert not list(tmp_path.glob("*.partial*")) and not list(tmp_path.glob("*-wal"))
    conn = sqlite3.connect(tmp_path / "lists.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    plan = " ".join(str(r) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM lists WHERE list='related' AND article_id='a001'"))
    assert "lists_by_article" in plan  # indexed lookup by article id


def test_parallel_and_pages(saved, tmp_path):
    rec, model = saved
    precompute(model, tmp_path / "one.sqlite", block_size=20)
    precompute(model, tmp_path / "two.sqlite", block_size=20, n_jobs=2)
    assert read_lists(tmp_path / "one.sqlite") == read_lists(tmp_path / "two.sqlite")
    precompute(model, tmp_path / "pages.sqlite", pages=True, now=NOW, block_size=40, n_jobs=2)
    article_id = rec.article_ids[3]
    page = rec.page(article_id, now=NOW)
    for name in ("related", "ranking", "recommendation"):
        stored = [item for item, _ in read_lists(tmp_path / "pages.sqlite", name).get(article_id, [])]
        assert stored == [h.article_id for h in getattr(page, name)]
    with pytest.raises(InvalidOptionError):
        precompute(model, tmp_path / "x.sqlite", pages=True)


def test_a_killed_run_resumes_and_gives_the_same_output(saved, tmp_path):
    _, model = saved
    out = tmp_path / "lists.sqlite"
    partial = tmp_path / "lists.sqlite.partial"
    code = ("import time, recommender._related.search as b\n"
            "slow = b.related_block\n"
            "def related_block(*a, **k):\n    time.sleep(0.3); return slow(*a, **k)\n"
            "b.related_block = related_block  # slow blocks down so the kill lands mid-run\n"
            f"from recommender._precompute import precompute\nprecompute({str(model)!r}, {str(out)!r}, block_size=4)\n")
    writer = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and done < 3:
        time.sleep(0.1)
        if partial.exists():
            try:
                with contextlib.closing(sqlite3.connect(partial, timeout=0.1)) as conn:
                    done = conn.execute("SELECT count(*) FROM done_blocks").fetchone()[0]
            except sqlite3.Error:
                pass
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert done >= 3 and partial.exists() and not out.exists()
    report = precompute(model, out, block_size=4)
    assert report.blocks_resumed >= 3
    assert not list(tmp_path.glob("lists.sqlite.partial*"))
    precompute(model, tmp_path / "fresh.sqlite", block_size=4)
    assert read_lists(out) == read_lists(tmp_path / "fresh.sqlite")


def test_a_partial_file_that_is_not_ours_is_started_again(saved, tmp_path):
    _, model = saved
    out = tmp_path / "lists.sqlite"
    (tmp_path / "lists.sqlite.partial").write_bytes(b"not a database")
    (tmp_path / "lists.sqlite.partial-wal").write_bytes(b"stale log")
    report = precompute(model, out, block_size=16)
    assert report.blocks_resumed == 0 and not list(tmp_path.glob("lists.sqlite.partial*"))
    precompute(model, tmp_path / "fresh.sqlite", block_size=16)
    assert read_lists(out) == read_lists(tmp_path / "fresh.sqlite")


def test_dask_cluster_output_equals_local_output(saved, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, model = saved
    precompute(model, tmp_path / "local.sqlite", block_size=16)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        precompute(model, tmp_path / "dask.sqlite", block_size=16, dask=cluster.scheduler_address)
        assert main(["precompute", "--model", str(model), "--out", str(tmp_path / "cli.sqlite"), "--block-size", "16",
                     "--dask", cluster.scheduler_address]) == 0  # the command, on the same two worker processes
    assert read_lists(tmp_path / "dask.sqlite") == read_lists(tmp_path / "local.sqlite")
    assert read_lists(tmp_path / "cli.sqlite") == read_lists(tmp_path / "local.sqlite")


def test_precompute_command(saved, tmp_path, capsys):
    _, model = saved
    assert main(["precompute", "--model", str(model), "--out", str(tmp_path / "l.sqlite"),
                 "--jsonl", str(tmp_path / "l.jsonl"), "--block-size", "32"]) == 0
    assert "precomputed 79 articles in 3 blocks" in capsys.readouterr().out
    assert (tmp_path / "l.jsonl").exists()
    assert main(["precompute", "--model", str(tmp_path / "missing"), "--out", str(tmp_path / "x.sqlite")]) == 1


def test_full_product_batches_equal_single_queries_without_profiles(sample_articles):
    plain = Recommender(neighbours=0).fit(sample_articles)
    ids, scores = plain.related_batch(k=10, block_size=64)
    for i, article_id in enumerate(plain.article_ids):
        single = plain.related(article_id, k=10)
        assert [x for x in ids[i] if x] == [h.article_id for h in single], article_id
        np.testing.assert_array_equal(scores[i][:len(single)], np.array([h.score for h in single], np.float32))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1, width=32), st.floats(0, 1, width=32), st.floats(1, 8, width=32),
                          st.floats(0, 1, width=32)), min_size=1, max_size=20))
def test_overlaps_under_the_cut_are_bounded_below_the_kth_score(values):
    from recommender._related.pruned import _overlap_cut

    kth, bound, norms, fraction = (np.array(column, dtype=np.float32) for column in zip(*values))
    cut, ceiling = _overlap_cut(kth, bound, norms)
    usable = np.isfinite(cut)
    assert (ceiling[usable] < kth[usable]).all() and not np.isfinite(ceiling[~usable]).any()
    some = usable & (cut > 0)  # an overlap is never negative: a cut at or below 0 leaves none under it
    below = (np.nextafter(np.where(some, cut, 0), np.float32(-np.inf)) * fraction).astype(np.float32)  # under the cut
    # the largest bound such an overlap can get: the smallest norm (1 for the other row), the row's own bound
    assert ((below + bound) / norms <= ceiling)[some].all()


def test_candidates_within_the_bounds_widening_of_the_kth_score_are_scored():
    """With a prior the settle check widens the bounds left by PRIOR_BOUND_SLACK: a candidate
    whose bound sits under the k-th score by less than that must be scored, or the row would
    be left to the full product."""
    from recommender._related.pruned import PRIOR_BOUND_SLACK, _best_bounded_first

    kth = np.float32(0.0620593)
    best = np.full((1, 2), kth, dtype=np.float32)
    upper = np.array([kth * np.float32(1 - 5e-7), kth * np.float32(0.9)], dtype=np.float32)
    position = np.zeros(2, dtype=np.int64)
    def exact(chosen):
        return np.full(len(chosen), kth * np.float32(0.5), dtype=np.float32)

    assert _best_bounded_first(exact, upper, position, best)[0].tolist() == []
    assert _best_bounded_first(exact, upper, position, best, PRIOR_BOUND_SLACK)[0].tolist() == [0]


@pytest.mark.parametrize("scratch", [1, 50, 10**6])
def test_entry_lookup_finds_every_shared_entry(monkeypatch, scratch):
    import scipy.sparse as sp

    from recommender._related import pruned as batch

    monkeypatch.setattr(batch, "SCRATCH_ENTRIES", scratch)
    rng = np.random.default_rng(scratch)
    matrix = sp.random(30, 40, density=0.3, format="csr", random_state=rng, dtype=np.float32)
    matrix = sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)
    matrix.indices[:] = np.concatenate([rng.permutation(row) for row in np.split(matrix.indices, matrix.indptr[1:-1])])
    wanted = [sp.random(30, 40, density=density, format="csr", random_state=rng) for density in (0.2, 0.5)]
    found = batch._entries_of(matrix, [wanted[0], None, wanted[1]], 40)  # several lookups in one pass
    assert found[1] is None
    position = {(row, column): at for row in range(30)
                for at, column in zip(range(matrix.indptr[row], matrix.indptr[row + 1]),
                                      matrix.indices[matrix.indptr[row]:matrix.indptr[row + 1]])}
    for other, where in zip(wanted, (found[0], found[2])):
        other_rows = np.repeat(np.arange(30), np.diff(other.indptr))
        expected = [position.get((row, column), -1) for row, column in zip(other_rows, other.indices)]
        assert where.tolist() == expected and (where >= 0).any() and (where < 0).any()


def _load_in_worker(model):
    from recommender import _store, _precompute

    _precompute._model(str(_store.resolve(model)))
    return os.getpid()


_MAPPED = []


def _read_pages(path):
    _MAPPED.append(np.memmap(path, dtype=np.uint8, mode="r"))  # kept mapped, as the model is
    int(_MAPPED[-1][::4096].sum())  # every page resident, as a large model's become over many blocks
    time.sleep(1.2)  # past loky's interval between two memory checks
    return os.getpid()


@pytest.mark.skipif(importlib.util.find_spec("psutil") is None, reason="loky checks memory through psutil")
def test_workers_are_not_restarted_for_the_pages_of_the_mapped_model(saved, tmp_path):
    from joblib.externals.loky import get_reusable_executor

    pages = tmp_path / "pages.bin"
    with open(pages, "wb") as handle:
        handle.truncate(400 << 20)  # more than loky's 300 MB allowance
    executor = get_reusable_executor(max_workers=1, kill_workers=True)
    try:
        first = executor.submit(_load_in_worker, saved[1]).result()
        assert executor.submit(_read_pages, pages).result() == first
        assert executor.submit(os.getpid).result() == first  # the same worker, not a new one
    finally:
        executor.shutdown(kill_workers=True)
