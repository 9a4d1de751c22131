"""The cosine index: exact scores, segments for cheap additions, top-k selection."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender._index import SMALL_GATHER_ROWS, CosineIndex, query_weights_at, top_rows
from recommender._sparse_kernels import running_sums


def unit_rows(n, n_terms=300, seed=0):
    matrix = normalize(sp.random(n, n_terms, density=0.04, format="csr", dtype=np.float32, random_state=seed))
    matrix.sort_indices()
    return sp.csr_matrix(matrix)


def test_scores_equal_dense_cosines():
    vectors = unit_rows(200)
    index = CosineIndex(vectors)
    dense = vectors.toarray()
    for row in (0, 17, 199):
        np.testing.assert_allclose(index.scores(vectors[row]), dense @ dense[row], atol=1e-6)
    assert not index.scores(sp.csr_matrix((1, 300), dtype=np.float32)).any()


@pytest.mark.parametrize("added", [1, 30, 1_500])  # stays a delta; grows it; forces a merge
def test_an_extended_index_answers_like_one_built_at_once(added):
    base, extra = unit_rows(2_000, seed=1), unit_rows(added, seed=2)
    index = CosineIndex(base)
    for start in range(0, added, 7):
        index = index.extended(extra[start:start + 7])
    whole = CosineIndex(sp.vstack([base, extra], format="csr"))
    assert index.n_rows == whole.n_rows == 2_000 + added
    rows = np.array([3, 1_999, 2_000, 2_000 + added - 1, 5])
    for row in rows:
        np.testing.assert_allclose(index.scores(index.row_vector(row)), whole.scores(whole.row_vector(row)), atol=1e-6)
        np.testing.assert_array_equal(index.row_terms(row).indices, whole.row_terms(row).indices)
    assert (index.select(rows) != whole.select(rows)).nnz == 0
    np.testing.assert_allclose(index.pair_scores(rows), whole.pair_scores(rows), atol=1e-6)
    np.testing.assert_allclose(index.product(whole.select(rows)).toarray(), whole.product(whole.select(rows)).toarray(),
                               atol=1e-6)
    assert (index.vectors != whole.vectors).nnz == 0 and (index.postings != whole.postings).nnz == 0


def test_extending_leaves_the_original_unchanged():
    base = unit_rows(100)
    index = CosineIndex(base)
    bigger = index.extended(unit_rows(3, seed=5))
    assert index.n_rows == 100 and bigger.n_rows == 103
    assert index.scores(base[0]).shape == (100,)


def test_pair_scores_match_sparse_products():
    vectors = unit_rows(50)
    rows = np.array([4, 9, 4, 0])
    np.testing.assert_allclose(CosineIndex(vectors).pair_scores(rows), (vectors[rows] @ vectors[rows].T).toarray(), atol=1e-6)
    assert CosineIndex(vectors).pair_scores(np.array([], dtype=np.int64)).shape == (0, 0)


@pytest.fixture(params=["compiled", "scipy"])
def cross_pass(request, monkeypatch):
    """Run a test with the compiled cross pass (numba) and with scipy's kernels."""
    if request.param == "compiled":
        pytest.importorskip("numba")
    else:
        monkeypatch.setattr("recommender._index.cross_cosines", lambda *args: False)
        monkeypatch.setattr("recommender._index.pair_cosines", lambda *args: False)
    return request.param


@pytest.mark.parametrize("added", [0, 40])
def test_cross_scores_equal_the_sparse_product_bit_for_bit(added, cross_pass):
    vectors = unit_rows(200)
    index = CosineIndex(vectors) if not added else CosineIndex(vectors[:160]).extended(vectors[160:])
    rng = np.random.default_rng(added)
    cases = [(rng.permutation(200)[:SMALL_GATHER_ROWS + 30], np.array([3, 199, 40, 3])),
             (np.array([5, 0]), rng.permutation(200)[:25]), (np.array([1]), np.array([2]))]
    cases += [(rng.permutation(200)[:50], rng.permutation(200)[:width]) for width in range(1, 10)]
    for rows, others in cases:
        cosines = index.cross_scores(rows, others)
        assert cosines.dtype == np.float32 and cosines.shape == (len(rows), len(others))
        assert np.array_equal(cosines, (vectors[rows] @ vectors[others].T).toarray())
    for row in (5, 6):  # the term scratch is left all zero: a call never reads another's columns
        assert np.array_equal(index.cross_scores(np.array([row]), np.array([row + 1])),
                              (vectors[[row]] @ vectors[[row + 1]].T).toarray())
    assert index.cross_scores(np.array([], dtype=np.int64), np.array([1])).shape == (0, 1)
    assert index.cross_scores(np.array([1]), np.array([], dtype=np.int64)).shape == (1, 0)
    for rows, others in (([0, 200], [1]), ([0], [-1])):
        with pytest.raises(IndexError):
            index.cross_scores(np.array(rows), np.array(others))


@pytest.mark.parametrize("added", [0, 40])
def test_pair_cosines_equal_the_sparse_product_bit_for_bit(added, cross_pass):
    vectors = unit_rows(200)
    index = CosineIndex(vectors) if not added else CosineIndex(vectors[:160]).extended(vectors[160:])
    rng = np.random.default_rng(added)
    for left, right in ((rng.integers(0, 200, 300), rng.integers(0, 200, 300)),  # left rows in any order
                        (np.full(50, 7), rng.integers(0, 200, 50)), (np.array([199]), np.array([0]))):
        expected = [(vectors[[a]] @ vectors[[b]].T).toarray()[0, 0] for a, b in zip(left, right)]
        assert np.array_equal(index.pair_cosines(left, right), np.array(expected, dtype=np.float32))
    assert index.pair_cosines(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)
    with pytest.raises(IndexError):
        index.pair_cosines(np.array([0, 1]), np.array([1, 200]))


def test_the_compiled_cross_pass_leaves_its_scratch_clean(monkeypatch):
    pytest.importorskip("numba")
    from recommender import _cross_kernel

    vectors = unit_rows(100)
    rows, queries = np.arange(100), np.array([1, 2, 3, 4, 5])
    out = np.empty((100, 5), np.float32)
    assert _cross_kernel.cross_cosines(vectors, rows, vectors, queries, out)
    assert not _cross_kernel._slots(vectors.shape[1]).any()
    assert np.array_equal(out, (vectors @ vectors[1:6].T).toarray())
    # arrays an index never holds, or query rows with more terms than slots: the caller takes another path
    assert not _cross_kernel.cross_cosines(vectors.astype(np.float64), rows, vectors, queries, out)
    monkeypatch.setattr(_cross_kernel, "MAX_SLOTS", int(vectors[1:5].nnz))
    assert not _cross_kernel.cross_cosines(vectors, rows, vectors, queries, out)
    assert not _cross_kernel._slots(vectors.shape[1]).any()
    assert np.array_equal(CosineIndex(vectors).cross_scores(rows, queries), (vectors @ vectors[1:6].T).toarray())


def test_loading_the_compiled_passes_ahead_compiles_what_requests_run():
    pytest.importorskip("numba")
    from recommender import _cross_kernel

    vectors = unit_rows(300)
    index = CosineIndex(vectors[:250])
    index.load_compiled_pass()
    signatures = [len(kernel.signatures) for kernel in _cross_kernel._compiled()]
    index.cross_scores(np.arange(40), np.array([1, 2, 3, 4, 5]))
    index.pair_cosines(np.array([3, 1, 3]), np.array([0, 9, 200]))
    index.pair_cosines(np.array([3, 3]), np.array([0, 9]))
    index.extended(vectors[250:]).cross_scores(np.arange(200, 300), np.array([0, 260]))
    assert [len(kernel.signatures) for kernel in _cross_kernel._compiled()] == signatures


def test_select_copies_the_rows_as_scipy_does():
    vectors = unit_rows(200)
    index = CosineIndex(vectors)
    for rows in (np.array([7, 3, 7, 199, 0]), np.array([], dtype=np.int64), np.arange(200)[::-1]):
        selected, expected = index.select(rows), vectors[rows]
        assert selected.shape == expected.shape and selected.dtype == expected.dtype
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(selected, name), getattr(expected, name)), name
    with pytest.raises(IndexError):  # out of range: refused as scipy refuses it, never read past the arrays
        index.select(np.array([3, 200]))
    wide = vectors.copy()
    wide.indptr = wide.indptr.astype(np.int64)  # as a loaded model may hold them
    assert wide.indptr.dtype != wide.indices.dtype  # index arrays of two widths: scipy's own selection
    assert (CosineIndex(wide).select(np.array([5, 1])) != vectors[[5, 1]]).nnz == 0


@pytest.mark.parametrize("added", [0, 40])
def test_gather_and_query_weights_read_the_stored_rows(added):
    vectors = unit_rows(200)
    index = CosineIndex(vectors[:200 - added]) if not added else CosineIndex(vectors[:160]).extended(vectors[160:])
    rng = np.random.default_rng(added)
    for rows in (np.array([3, 0, 3, 199]), rng.integers(0, 200, SMALL_GATHER_ROWS + 10)):  # numpy and scipy paths
        lengths, indices, data = index.gather(rows)
        block = vectors[rows]
        assert lengths.tolist() == np.diff(block.indptr).tolist() == index.row_lengths(rows).tolist()
        assert np.array_equal(indices, block.indices) and np.array_equal(data, block.data)
    every_term = np.arange(300)
    for row in (5, 6, 199):  # the scratch is left all zero: a row never reads another's weights
        weights = query_weights_at(index.row_terms(row), every_term, 300)
        assert weights.dtype == np.float32 and np.array_equal(weights, vectors[row].toarray().ravel())
        postings = vectors.T.tocsr()  # what the full product of the row reads
        assert index.posting_volume(row) == np.diff(postings.indptr)[vectors[row].indices].sum() > 0


def test_top_rows_keeps_ties_and_only_positive_scores():
    scores = np.array([0.5, 0.2, -np.inf, 0.2, 0.9, 0.0, 0.2])
    assert sorted(top_rows(scores, 2)) == [0, 4]
    assert sorted(top_rows(scores, 3)) == [0, 1, 3, 4, 6]  # every row tied with the third
    assert sorted(top_rows(scores, 50)) == [0, 1, 3, 4, 6]


def test_running_sums_add_each_run_left_to_right_in_float32():
    rng = np.random.default_rng(3)
    values = (rng.standard_normal(4000) * 10.0 ** rng.integers(-3, 8, 4000)).astype(np.float32)
    ends = np.unique(np.r_[rng.integers(0, 4000, 300), 0, 4000])  # runs of every length, empty ones too
    expected = []
    start = 0
    for end in ends.tolist():
        total = np.float32(0)
        for value in values[start:end]:
            total = np.float32(total + value)
        expected.append(total)
        start = end
    assert np.array_equal(running_sums(values, ends), np.array(expected, dtype=np.float32))
    assert running_sums(np.array([1e8, 1, -1e8, 1], np.float32), np.array([4]))[0] == 1  # not another order
