"""The compiled pass that hands the pruned Related search only the profile overlaps it can use."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from recommender import Recommender
from recommender._related import close_overlap, filtered_out
from recommender._related.close_overlap import close_overlaps
from recommender._related.pruned import pruned_lists
from recommender._related.search import similarity_matrix
from recommender._related.time_prior import TimePrior
from recommender.evaluation.synthetic import generate_articles

pytest.importorskip("numba")

PRIORS = [None, TimePrior(1.0, 0.5), TimePrior(3.0, 0.0)]


@pytest.fixture(autouse=True)
def small_tiles(monkeypatch):
    """Tiles of 97 columns: an archive of 1,500 rows spans 16 of them, the last one short
    (other test files run the default width, one tile at this size)."""
    monkeypatch.setattr(close_overlap, "TILE_COLUMNS", 97)


@pytest.fixture(scope="module")
def model():
    """A synthetic archive fitted as a whole (the profiles' plain postings), some articles removed."""
    articles = list(generate_articles(1_500, seed=11))
    fitted = Recommender(neighbours=20).fit(articles)
    fitted.remove_articles([a["id"] for a in articles[::97]])
    return fitted


@pytest.fixture(scope="module")
def grown():
    """Articles added after the fit (the profiles' corrections and changed rows), some removed."""
    articles = list(generate_articles(1_500, seed=11))
    fitted = Recommender(neighbours=20).fit(articles[:1_450])
    fitted.add_articles(articles[1_450:])
    fitted.remove_articles([a["id"] for a in articles[::97]])
    assert fitted._state.profiles.overlap_postings()[1] is not None
    return fitted


MODELS = ["model", "grown"]


def _inputs(state, rows):
    profiles = state.profiles
    selected = profiles.select(rows)
    return selected, profiles.links(rows, selected), profiles.core_of_rows(rows)


def _lists(monkeypatch, model, rows, compiled, k=10, prior=None, filtered=None):
    monkeypatch.setattr(close_overlap, "AVAILABLE", compiled)
    return pruned_lists(model._state, rows, k, model.duplicate_threshold, model.min_similarity, filtered,
                        prior=prior)


@pytest.mark.parametrize("which", MODELS)
@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("k", [1, 10, 40])
def test_lists_equal_those_from_scipys_product_row_by_row_and_in_blocks(monkeypatch, request, which, prior, k):
    model = request.getfixturevalue(which)
    rows = model._state.catalog.rows(model.article_ids)
    blocks = _lists(monkeypatch, model, rows, True, k, prior)
    assert blocks == _lists(monkeypatch, model, rows, False, k, prior)  # lists, and which rows settle
    assert sum(hits is not None for hits in blocks) > 0.3 * len(rows)
    for row in rows[::23]:
        one = np.array([row])
        assert _lists(monkeypatch, model, one, True, k, prior) == _lists(monkeypatch, model, one, False, k, prior)


def test_filtered_lists_equal_those_from_scipys_product(monkeypatch, model):
    state = model._state
    article = model.article_ids[3]
    row = state.catalog.row(article)
    query = model._related_query(10, exclude_rows=np.zeros(0, np.int64), same_section=True,
                                 section_code=int(state.catalog.section_codes[row]),
                                 published=int(state.catalog.published[row]), max_age_seconds=None)
    hidden = filtered_out(state.catalog, query)
    rows = state.catalog.rows(model.article_ids)[:400]
    assert (_lists(monkeypatch, model, rows, True, filtered=hidden)
            == _lists(monkeypatch, model, rows, False, filtered=hidden))


@pytest.mark.parametrize("which", MODELS)
@pytest.mark.parametrize("prior", PRIORS)
def test_entries_handed_back_are_the_product_s_own_with_every_link(request, which, prior):
    model = request.getfixturevalue(which)
    state = model._state
    profiles = state.profiles
    rows = state.catalog.rows(model.article_ids)[::5]
    selected, known, core = _inputs(state, rows)
    (indptr, indices, data), _ = close_overlaps(state, rows, selected, known, core, 10, model.duplicate_threshold,
                                                model.min_similarity, None, prior)
    full_indptr, full_indices, full_data = profiles.overlap_parts(selected)
    assert len(indices) < 0.5 * len(full_indices)  # the point: most entries are left out
    for i in range(len(rows)):
        mine = indices[indptr[i]:indptr[i + 1]].tolist()
        full = full_indices[full_indptr[i]:full_indptr[i + 1]].tolist()
        at = {column: position for position, column in enumerate(full)}
        positions = [at[column] for column in mine]  # every entry is one of the product's, once ...
        assert len(set(positions)) == len(positions)
        np.testing.assert_array_equal(data[indptr[i]:indptr[i + 1]],  # ... with its bits
                                      full_data[full_indptr[i]:full_indptr[i + 1]][positions])
        must = set(known[1][known[0][i]:known[0][i + 1]].tolist()) | set(core.indices[core.indptr[i]:core.indptr[i + 1]].tolist())
        assert must & set(full) <= set(mine)  # the linked and core articles are always handed back


@pytest.mark.parametrize("which", MODELS)
@pytest.mark.parametrize("prior", PRIORS)
def test_every_entry_left_out_scores_below_the_bound_handed_back(request, which, prior):
    model = request.getfixturevalue(which)
    state = model._state
    rows = state.catalog.rows(model.article_ids)[::7]
    selected, known, core = _inputs(state, rows)
    (indptr, indices, _), left_out = close_overlaps(state, rows, selected, known, core, 10,
                                                    model.duplicate_threshold, model.min_similarity, None, prior)
    full_indptr, full_indices, _ = state.profiles.overlap_parts(selected)
    checked = 0
    for i, row in enumerate(rows):
        left = np.setdiff1d(full_indices[full_indptr[i]:full_indptr[i + 1]], indices[indptr[i]:indptr[i + 1]])
        left = left[(left != row) & ~state.catalog.removed[left]]
        if len(left):
            scores = similarity_matrix(state, np.array([row]), left.astype(np.int64), prior)[0]
            assert scores.max() < left_out[i], row
            checked += 1
    assert checked > 0.5 * len(rows)


def test_the_product_is_taken_where_numba_is_missing(monkeypatch, model):
    rows = model._state.catalog.rows(model.article_ids[:5])
    monkeypatch.setattr(close_overlap, "AVAILABLE", False)
    assert close_overlaps(model._state, rows, *_inputs(model._state, rows), 10, 0.9, 0.0, None, None) is None


def test_threads_share_no_scratch_and_leave_theirs_clean(model):
    ids = model.article_ids[:300]
    serial = [model.related(article_id, k=10) for article_id in ids]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda article_id: model.related(article_id, k=10), ids)) == serial
    scratch, marks, _, _ = close_overlap._buffers(model._state.profiles.n_rows, 10)  # this thread's
    assert not scratch.any() and not marks.any()


@pytest.mark.parametrize("mmap", [False, True])
def test_loading_the_pass_ahead_compiles_what_the_queries_run(model, tmp_path, mmap):
    model.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model", mmap=mmap)
    close_overlap.load_compiled_pass(loaded._state)
    compiled = close_overlap._compiled_pass()
    signatures = len(compiled.signatures)
    ids = loaded.article_ids
    loaded.related(ids[0])
    loaded.related(ids[1], same_section=True)
    loaded.related_batch(ids[:40], k=5)
    assert len(compiled.signatures) == signatures  # nothing left to compile in the first request


def test_first_calls_on_many_threads_compile_the_pass_without_error():
    import sys
    import threading

    close_overlap._compiled_pass.cache_clear()
    barrier, found, errors = threading.Barrier(4), [], []

    def first_call():
        barrier.wait()
        try:
            found.append(close_overlap._compiled_pass())
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    threads = [threading.Thread(target=first_call) for _ in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often: their first calls interleave
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors and len(found) == 4 and all(kernel is not None for kernel in found)


def _csr(rows, index_type=np.int32):
    indptr = np.cumsum([0] + [len(row) for row in rows]).astype(index_type)
    return (indptr, np.array([c for row in rows for c, _ in row], np.uint32),
            np.array([v for row in rows for _, v in row], np.float32))


def _run_kernel(postings_rows, weights, n, corrections_rows=None):
    """The compiled pass on one query whose profile holds concepts 0.. with ``weights``, over
    postings rows of ``(column, value)`` pairs (and corrections rows, if any), in an archive
    of ``n`` rows."""
    none64, none32, none_f = np.zeros(2, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.float32)
    scratch, marks, touched = np.zeros(n, np.float32), np.zeros(n, np.uint8), np.zeros(n + 1, np.uint32)
    if corrections_rows is None:
        delta, corrections, corrected = (np.zeros(0, np.int64), none32, none_f), none_f, np.zeros(1, np.uint32)
    else:
        delta, corrections, corrected = _csr(corrections_rows, np.int64), np.zeros(n, np.float32), np.zeros(
            n + 1, np.uint32)
    found = close_overlap._compiled_pass()(
        np.array([0, len(weights)], np.int64), np.arange(len(weights), dtype=np.uint32), np.array(weights, np.float32),
        *_csr(postings_rows), *delta, none64, none32, none_f, none64, none32, none_f, np.zeros(1, np.int64),
        np.ones(n, np.float32), np.zeros(n, np.float32), np.zeros(0, np.bool_), np.zeros(0, np.bool_),
        np.zeros(n, np.int64), 0.0, 1.0, np.float32(0), np.float32(0.9), 10, scratch, marks, touched,
        np.zeros(16, np.float32), corrections, corrected)
    assert not corrections.any()
    return found, scratch


def test_sums_that_return_to_zero_never_write_past_the_scratch():
    # a fitted model's profiles are positive; entries of both signs make a sum leave 0 twice
    found, scratch = _run_kernel([[(0, 1.0)], [(0, -1.0)], [(0, 1.0)]], [1.0, 1.0, 1.0], n=1)
    assert found[-1] is False and not scratch.any()  # the caller takes scipy's product instead
    found, scratch = _run_kernel([[(0, 1.0), (1, 0.0)], [(1, 2.0)]], [1.0, 1.0], n=2)  # a zero product
    (indptr, indices, data, _, complete), clean = found, not scratch.any()
    assert complete and clean and sorted(indices.tolist()) == [0, 1]  # no linked article: every entry kept


def test_corrections_are_summed_apart_and_added_as_scipy_adds_the_two_products():
    # base: concept 0 holds rows 0 and 1; corrections since: row 0 left it (-1), row 2 entered (0.5)
    found, scratch = _run_kernel([[(0, 1.0), (1, 3.0)]], [0.5], n=3, corrections_rows=[[(0, -1.0), (2, 0.5)]])
    indptr, indices, data, _, complete = found
    assert complete and not scratch.any()
    assert dict(zip(indices.tolist(), data.tolist())) == {1: 1.5, 2: 0.25}  # row 0's sum is back at 0: dropped


def test_a_pass_stopped_midway_leaves_no_sums_behind(monkeypatch, model):
    def fails(*arrays):
        scratch = arrays[-4]
        scratch[:3] = 1.0  # a row's sums, half added
        raise MemoryError

    rows = np.array([0])
    monkeypatch.setattr(close_overlap, "_compiled_pass", lambda: fails)
    with pytest.raises(MemoryError):
        close_overlaps(model._state, rows, *_inputs(model._state, rows), 10, 0.9, 0.0, None, None)
    scratch, marks, _, _ = close_overlap._buffers(model._state.profiles.n_rows, 10)
    assert not scratch.any() and not marks.any()
