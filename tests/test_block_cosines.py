"""The diversity walk's cosines: one pick's row of the candidates' pair matrix, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender._block_cosines import BlockCosines
from recommender._index import CosineIndex


def unit_rows(n, n_terms=400, density=0.05, seed=0):
    matrix = normalize(sp.random(n, n_terms, density=density, format="csr", dtype=np.float32, random_state=seed))
    matrix.sort_indices()
    return sp.csr_matrix(matrix)


@pytest.mark.parametrize("added", [0, 25])  # one segment; a base and a delta
def test_each_row_equals_the_pair_matrix_row_bit_for_bit(added):
    vectors = unit_rows(300)
    index = CosineIndex(vectors) if not added else CosineIndex(vectors[:300 - added]).extended(vectors[300 - added:])
    rng = np.random.default_rng(added)
    for rows in (rng.permutation(300)[:80], np.array([7, 299, 3]), rng.permutation(300)[:2]):
        whole = index.pair_scores(rows)
        block = BlockCosines(index, rows)
        for position in range(len(rows)):
            cosines = block.of(position)
            assert cosines.dtype == np.float32
            assert np.array_equal(cosines, whole[position])
        np.testing.assert_allclose(whole, (vectors[rows] @ vectors[rows].T).toarray(), atol=1e-6)


def test_rows_without_shared_terms_and_empty_rows_get_zero():
    vectors = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0.6, 0.8, 0], [0, 0, 0, 0], [0, 0.8, 0.6, 0]], dtype=np.float32))
    block = BlockCosines(CosineIndex(vectors), np.array([0, 1, 2, 3]))
    assert block.of(0).tolist() == [1, 0, 0, 0]
    assert block.of(2).tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(block.of(1), [0, 1, 0, 0.96], atol=1e-7)
