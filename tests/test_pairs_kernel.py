"""The compiled search that scores each pair once (recommender/_pairs_kernel.py), against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import _pairs_kernel
from recommender._pairs_kernel import dense_terms, top_m_pairs
from recommender._profile_search import (
    COMPILED_MIN_ROWS,
    neighbour_profiles,
    search_kernel,
)

pytest.importorskip("numba")


@pytest.fixture(scope="module")
def vectors() -> sp.csr_matrix:
    """Unit rows over a Zipf-like vocabulary: a few terms in most rows, many in few, some empty rows."""
    rng = np.random.default_rng(7)
    n, n_terms = 420, 900
    popularity = 1.0 / np.arange(1, n_terms + 1) ** 0.9
    rows = []
    for row in range(n):
        size = 0 if row % 97 == 5 else rng.integers(3, 40)
        terms = np.unique(rng.choice(n_terms, size=size, p=popularity / popularity.sum()))
        rows.append(sp.csr_matrix((rng.random(len(terms)) + 0.05, (np.zeros(len(terms), int), terms)),
                                  shape=(1, n_terms)))
    matrix = sp.vstack(rows, format="csr").astype(np.float32)
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    matrix = sp.diags(np.where(norms > 0, 1 / np.maximum(norms, 1e-30), 0)).astype(np.float32) @ matrix
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()  # terms in order, as a fit stores them
    return matrix


@pytest.fixture
def small_tiles(monkeypatch):
    """Blocks of 16 rows and tiles of 37 columns: every row crosses many tiles and blocks; the
    common rare terms go 5 columns at a time; the dense block is built and the heaps sorted 23
    rows at a time."""
    monkeypatch.setattr(_pairs_kernel, "BLOCK_ROWS", 16)
    monkeypatch.setattr(_pairs_kernel, "TILE_ELEMENTS", 16 * 37)
    monkeypatch.setattr(_pairs_kernel, "SPAN", 5)
    monkeypatch.setattr(_pairs_kernel, "COMMON_SHARE", 0.03)
    monkeypatch.setattr(_pairs_kernel, "SLICE_ROWS", 23)


def _search(vectors, m, **options):
    counts, columns, cosines = top_m_pairs(vectors, sp.csr_matrix(vectors.T), m, **options)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    return [(columns[offsets[row]:offsets[row + 1]], cosines[offsets[row]:offsets[row + 1]])
            for row in range(vectors.shape[0])]


def _brute_force(vectors: sp.csr_matrix) -> np.ndarray:
    dense = vectors.toarray().astype(np.float64)
    cosines = dense @ dense.T
    np.fill_diagonal(cosines, 0)
    return cosines


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("share", [0.0, 0.12, 2.0])  # every term dense, the default split, none dense
def test_every_row_gets_its_exact_top_m(vectors, small_tiles, threads, share):
    m = 12
    cosines = _brute_force(vectors)
    found = _search(vectors, m, n_threads=threads, dense_share=share)
    for row, (columns, values) in enumerate(found):
        positive = np.flatnonzero(cosines[row] > 1e-9)
        best = sorted(positive, key=lambda column: (-cosines[row, column], column))[:m]
        assert len(columns) == len(best), row
        assert np.all(np.diff(columns) > 0) and row not in columns  # column order, never itself
        np.testing.assert_allclose(values, cosines[row, columns], atol=1e-6)
        # the same set, but where the m-th place is a tie within float32 rounding
        margin = cosines[row, best[-1]] if best else 0
        assert set(columns) ^ set(best) <= {c for c in positive if abs(cosines[row, c] - margin) < 1e-6}, row


def test_dense_and_sparse_terms_split_the_work(vectors):
    frequent = dense_terms(sp.csr_matrix(vectors.T), 0.12)
    share = np.diff(sp.csr_matrix(vectors.T).indptr)[frequent] / vectors.shape[0]
    assert 0 < len(frequent) < vectors.shape[1] and np.all(share > 0.12)  # the fixture exercises both paths


def test_rare_terms_split_into_common_ones_by_spans_and_the_rest_by_tiles(vectors):
    """The small_tiles threshold (3 % of 420 rows: 13 postings) puts rare terms on both paths."""
    postings = sp.csr_matrix(vectors.T)
    dense_term = np.zeros(vectors.shape[1], np.bool_)
    dense_term[dense_terms(postings, 0.12)] = True
    terms, _, _, _, _, common, uncommon = _pairs_kernel._by_term(
        0, 16, vectors.indptr, vectors.indices.astype(np.uint32), vectors.data, dense_term, postings.indptr,
        postings.indices.astype(np.uint32), 13)
    df = np.diff(postings.indptr)[terms]
    assert len(common) and len(uncommon) and len(common) + len(uncommon) == len(terms)
    assert np.all(df[common] >= 13) and np.all(df[uncommon] < 13) and not dense_term[terms].any()


def test_results_do_not_depend_on_threads_or_their_timing(vectors, small_tiles):
    one = _search(vectors, 9, n_threads=1)
    for _ in range(3):
        three = _search(vectors, 9, n_threads=3)
        for (columns, values), (columns_3, values_3) in zip(one, three):
            np.testing.assert_array_equal(columns, columns_3)
            np.testing.assert_array_equal(values, values_3)


def test_profile_cosines_are_the_sparse_products_bit_for_bit(vectors, small_tiles):
    product = (vectors @ sp.csr_matrix(vectors.T)).toarray()  # what a Related query computes
    for row, (columns, values) in enumerate(_search(vectors, 12, n_threads=2)):
        np.testing.assert_array_equal(values, product[row, columns])


def test_a_neighbour_whose_exact_cosine_is_not_positive_is_dropped(vectors, monkeypatch):
    exact = _pairs_kernel._exact

    def some_round_to_zero(indptr, indices, data, offsets, columns, first, last, weights, out):
        exact(indptr, indices, data, offsets, columns, first, last, weights, out)
        out[offsets[first]:offsets[last]:3] = 0  # as if rounding took these to 0

    monkeypatch.setattr(_pairs_kernel, "_exact", some_round_to_zero)
    counts, columns, cosines = top_m_pairs(vectors, sp.csr_matrix(vectors.T), 9, n_threads=2)
    assert np.all(cosines > 0) and counts.sum() == len(columns) == len(cosines)
    assert 0 < len(columns) < 9 * vectors.shape[0] * 0.8


def test_a_fit_with_the_pairs_search_keeps_the_pruned_related_path(monkeypatch):
    import recommender._profile_search as search
    from recommender import Recommender
    from recommender._related.search import resolve_strategy
    from recommender.evaluation.synthetic import generate_articles

    monkeypatch.setattr(search, "COMPILED_MIN_ROWS", 100)  # the fit searches pairs from 100 articles
    model = Recommender(n_jobs=2).fit(list(generate_articles(400, seed=3)))
    assert search.search_kernel(400) == "pairs"
    assert resolve_strategy("auto", model._fitted()) == "profiles"  # its cosines agree with the product's


def test_a_pair_has_one_cosine_for_both_rows(vectors, small_tiles):
    found = _search(vectors, 30, n_threads=2)
    pairs = {(row, column): value for row, (columns, values) in enumerate(found) for column, value in zip(columns, values)}
    shared = [(key, value) for key, value in pairs.items() if key[::-1] in pairs]
    assert len(shared) > 1000
    assert all(pairs[key[::-1]] == value for key, value in shared)


def test_ties_keep_the_lower_column_and_skip_the_row_itself(small_tiles):
    # rows 0..5 are the same text; rows 6 and 7 share nothing with them
    vectors = sp.csr_matrix(np.array([[1, 0, 0]] * 6 + [[0, 1, 0], [0, 0, 1]], dtype=np.float32))
    found = _search(vectors, 3, n_threads=2)
    assert [columns.tolist() for columns, _ in found] == [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2], [0, 1, 2],
                                                         [0, 1, 2], [], []]
    assert all(np.all(values == 1) for _, values in found[:6])


def test_progress_counts_work_in_rows(vectors, small_tiles):
    steps = []
    top_m_pairs(vectors, sp.csr_matrix(vectors.T), 5, progress=steps.append)
    n = vectors.shape[0]
    assert sum(steps) == n and len(steps) > 10
    assert steps[0] > 16 > steps[-1]  # blocks of 16 rows: the first scores the most pairs, the last the fewest


def test_empty_archive_and_m_above_the_archive():
    assert [len(part) for part in top_m_pairs(sp.csr_matrix((0, 4), dtype=np.float32),
                                              sp.csr_matrix((4, 0), dtype=np.float32), 5)] == [0, 0, 0]
    vectors = sp.csr_matrix(np.eye(3, dtype=np.float32) + 0.5)
    found = _search(sp.csr_matrix(vectors / np.linalg.norm(vectors.toarray(), axis=1)[:, None]), 10)
    assert [columns.tolist() for columns, _ in found] == [[1, 2], [0, 2], [0, 1]]


def test_unsorted_postings_are_searched_as_sorted(vectors):
    postings = sp.csr_matrix(vectors.T)
    shuffled = sp.csr_matrix(postings.toarray()[:, ::-1])  # columns reversed ...
    shuffled = sp.csr_matrix((shuffled.data, vectors.shape[0] - 1 - shuffled.indices, shuffled.indptr),
                             shape=postings.shape)  # ... and mapped back: same matrix, indices descending
    assert not shuffled.has_sorted_indices
    expected = top_m_pairs(vectors, postings, 8)
    for got, want in zip(top_m_pairs(vectors, shuffled, 8), expected):
        np.testing.assert_array_equal(got, want)


def test_the_fit_searches_pairs_here_and_rows_on_a_cluster(vectors, monkeypatch):
    import recommender._profile_search as search

    assert search_kernel(COMPILED_MIN_ROWS) == "pairs"
    postings = sp.csr_matrix(vectors.T)
    calls = []
    monkeypatch.setattr(_pairs_kernel, "top_m_pairs",
                        lambda *args, **kwargs: calls.append(1) or top_m_pairs(*args, **kwargs))
    monkeypatch.setattr(search, "COMPILED_MIN_ROWS", 100)
    here = neighbour_profiles(vectors, postings, 10, n_threads=2)
    assert calls == [1]
    spread = neighbour_profiles(vectors, postings, 10, block_size=100,
                                run_blocks=lambda function, arguments: [function(*args) for args in arguments])
    rows = neighbour_profiles(vectors, postings, 10, kernel="numba")
    assert calls == [1]  # blocks spread elsewhere use the per-row compiled kernel
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(spread.rows, name), getattr(rows.rows, name))
    np.testing.assert_array_equal(here.rows.indptr, rows.rows.indptr)
    np.testing.assert_allclose(here.rows.data, rows.rows.data, atol=1e-6)
