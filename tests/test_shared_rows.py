"""The pool's cosines through the kept postings of the rows every request shares, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender import _shared_rows
from recommender._index import CosineIndex
from recommender._shared_rows import KEPT_SETS, SharedRows, pool_cosines, shared_rows


def unit_rows(n, n_terms=400, density=0.05, seed=0):
    matrix = normalize(sp.random(n, n_terms, density=density, format="csr", dtype=np.float32, random_state=seed))
    matrix.sort_indices()
    return sp.csr_matrix(matrix)


def index_of(vectors, added):
    n = vectors.shape[0]
    return CosineIndex(vectors) if not added else CosineIndex(vectors[:n - added]).extended(vectors[n - added:])


@pytest.mark.parametrize("added", [0, 25])  # one segment; a base and a delta
def test_cosines_equal_cross_scores_bit_for_bit(added):
    vectors = unit_rows(300)
    index = index_of(vectors, added)
    rng = np.random.default_rng(added)
    for rows in (rng.permutation(300)[:120], np.array([299, 3, 7]), np.array([5])):
        shared = SharedRows(index, rows)
        for queries in (np.array([1, 298, 40, 41]), rng.permutation(300)[:12], np.array([rows[0]])):
            cosines = shared.cosines(index, queries)
            assert cosines.dtype == np.float32 and cosines.shape == (len(rows), len(queries))
            assert np.array_equal(cosines, index.cross_scores(rows, queries))
            np.testing.assert_allclose(cosines, (vectors[rows] @ vectors[queries].T).toarray(), atol=1e-6)


def test_rows_and_queries_without_shared_terms_get_zero():
    vectors = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0.6, 0.8, 0], [0, 0, 0, 0], [0, 0.8, 0.6, 0]], dtype=np.float32))
    index = CosineIndex(vectors)
    cosines = SharedRows(index, np.array([0, 2, 3])).cosines(index, np.array([1, 2]))
    np.testing.assert_allclose(cosines, [[0, 0], [0, 0], [0.96, 0]], atol=1e-7)


@pytest.mark.parametrize("added", [0, 25])
def test_pool_cosines_equal_cross_scores_with_overlapping_shared_sets(added):
    index = index_of(unit_rows(300, seed=1), added)
    rng = np.random.default_rng(3)
    rows = np.unique(rng.permutation(300)[:150])
    popular, newest = rows[rng.permutation(len(rows))[:40]], rows[-30:]  # they overlap, in any order
    queries = np.array([2, 77, 150, 299])
    expected = index.cross_scores(rows, queries)
    for shared in ([popular, newest], [newest], [], [np.zeros(0, dtype=np.int64), popular], [rows]):
        for _ in range(2):  # a set asked first, then again (its postings built)
            assert np.array_equal(pool_cosines(index, rows, queries, shared), expected)


def test_postings_are_built_on_a_set_s_second_request_and_kept_per_index():
    vectors = unit_rows(100, seed=2)
    index, other = CosineIndex(vectors), CosineIndex(vectors)
    assert shared_rows(index, np.array([1, 2, 3])) is None  # asked once: not worth building yet
    first = shared_rows(index, np.array([1, 2, 3]))
    assert isinstance(first, SharedRows) and first.rows.tolist() == [1, 2, 3]
    assert shared_rows(index, np.array([1, 2, 3])) is first
    assert shared_rows(other, np.array([1, 2, 3])) is None  # another index, its own postings
    for start in range(KEPT_SETS - 1):  # the set asked last is let go last
        shared_rows(index, np.array([10 + start]))
    assert shared_rows(index, np.array([1, 2, 3])) is first
    for start in range(KEPT_SETS):
        shared_rows(index, np.array([20 + start]))
    assert shared_rows(index, np.array([1, 2, 3])) is None  # asked longest ago: forgotten
    assert len(_shared_rows._kept.keys(index)) == KEPT_SETS


def test_a_set_asked_once_is_multiplied_like_the_rest():
    index = CosineIndex(unit_rows(200, seed=4))
    rows, queries = np.arange(0, 200, 3), np.array([5, 6, 7])
    newest = rows[-20:]
    expected = index.cross_scores(rows, queries)
    for _ in range(3):  # unknown, then built, then kept
        assert np.array_equal(pool_cosines(index, rows, queries, [newest]), expected)
