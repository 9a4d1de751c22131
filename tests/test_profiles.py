"""Neighbour profiles and the anchored score, checked against dense brute force."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import Recommender
from recommender._profile_search import COMPILED_MIN_ROWS, KERNELS, neighbour_profiles, search_kernel
from recommender._profiles import NeighbourProfiles
from recommender._sparse_kernels import rows_times
from recommender.evaluation.synthetic import generate_articles
from recommender._vectorize import TextVectorizer


@pytest.fixture(scope="module")
def matrix() -> sp.csr_matrix:
    articles = list(generate_articles(600, seed=4))
    return TextVectorizer().fit_transform([a["title"] for a in articles], [a["body"] for a in articles])


def _dense_cosines(vectors: sp.csr_matrix) -> np.ndarray:
    cosines = (vectors @ vectors.T).toarray()
    np.fill_diagonal(cosines, 0)
    return cosines


def _best(scores: np.ndarray, m: int) -> list[int]:
    """Brute force: the m highest positive scores, ties by lower row."""
    order = sorted((row for row in range(len(scores)) if scores[row] > 0), key=lambda row: (-scores[row], row))
    return sorted(order[:m])


def _profile(profiles, row: int) -> list[int]:
    return sorted(profiles.row(row)[0].tolist())


@pytest.mark.parametrize("kernel", KERNELS)
def test_fit_profiles_are_the_exact_top_m(matrix, kernel):
    if kernel != "scipy":
        pytest.importorskip("numba" if kernel == "pairs" else kernel)
    cosines = _dense_cosines(matrix)
    profiles = neighbour_profiles(matrix, sp.csr_matrix(matrix.T), 20, block_size=128, kernel=kernel)
    for row in range(matrix.shape[0]):
        assert _profile(profiles, row) == _best(cosines[row], 20), row
        indices, data = profiles.row(row)
        assert np.allclose(data, cosines[row, indices], atol=1e-6)
    full = [row for row in range(matrix.shape[0]) if (cosines[row] > 0).sum() >= 20]
    assert np.allclose(profiles.kth[full], [np.sort(cosines[row])[-20] for row in full], atol=1e-6)


@pytest.mark.parametrize("threads", [1, 3])
def test_compiled_kernel_gives_the_profiles_of_sparse_dot_topn_bit_for_bit(matrix, threads):
    # (no exact ties for a last place in this archive: there sparse_dot_topn keeps either row)
    pytest.importorskip("numba")
    pytest.importorskip("sparse_dot_topn")
    postings = sp.csr_matrix(matrix.T)
    compiled = neighbour_profiles(matrix, postings, 20, block_size=100, n_threads=threads, kernel="numba")
    sparse = neighbour_profiles(matrix, postings, 20, block_size=100, n_threads=threads, kernel="sparse_dot_topn")
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(compiled.rows, name), getattr(sparse.rows, name))


def test_the_fastest_kernel_that_imports_is_chosen(monkeypatch):
    import importlib.util

    def imports(kernel):
        return importlib.util.find_spec("numba" if kernel == "pairs" else kernel) is not None

    importable = [kernel for kernel in KERNELS[:-1] if kernel != "numba" and imports(kernel)] + ["scipy"]
    assert search_kernel() == search_kernel(COMPILED_MIN_ROWS) == importable[0]
    assert search_kernel(COMPILED_MIN_ROWS - 1) == [k for k in importable if k != "pairs"][0]  # not worth compiling
    for module in ("numba", "sparse_dot_topn"):
        monkeypatch.setitem(sys.modules, module, None)  # its import now fails
    assert search_kernel() == "scipy"


def test_compiled_kernel_breaks_ties_by_lower_column_and_skips_the_row_itself():
    pytest.importorskip("numba")
    from recommender._topm_kernel import top_m_rows

    # row 0 has the same cosine with rows 1..5; rows 6 and 7 share nothing with it
    vectors = sp.csr_matrix(np.array([[1, 0, 0]] * 6 + [[0, 1, 0], [0, 0, 1]], dtype=np.float32))
    rows_of, columns, cosines = top_m_rows(vectors, sp.csr_matrix(vectors.T), 0, 2, 3, n_threads=2)
    assert sorted(columns[rows_of == 0].tolist()) == [1, 2, 3]
    assert sorted(columns[rows_of == 1].tolist()) == [0, 2, 3]
    assert np.all(cosines == 1)


def _anchored_dense(cosines_with_self: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
    q = rows.toarray().astype(np.float64)
    norms = np.sqrt(1 + (q * q).sum(axis=1))
    return (cosines_with_self + q @ q.T) / np.outer(norms, norms)


def test_anchored_scores_equal_the_formula(matrix):
    profiles = neighbour_profiles(matrix, sp.csr_matrix(matrix.T), 15)
    cosines = (matrix @ matrix.T).toarray()
    expected = _anchored_dense(cosines, profiles.rows)
    for row in (0, 17, 599):
        assert np.allclose(profiles.for_row(row, cosines[row].astype(np.float32)), expected[row], atol=1e-5)
    rows = np.array([5, 3, 400])
    block = profiles.block_scores(rows, sp.csr_matrix(cosines[rows]))
    assert np.allclose(block.toarray(), expected[rows], atol=1e-5)
    assert np.allclose(profiles.norms, np.sqrt(1 + np.asarray(profiles.rows.multiply(profiles.rows).sum(axis=1)).ravel()))


def _sorted_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix = matrix.copy()
    matrix.sort_indices()
    return matrix


def test_overlap_equals_scipys_public_product_bit_for_bit(matrix):
    """The overlap calls scipy's product kernel directly (no counting pass), for one row or a
    block: the same sums as ``profiles @ postings``, bit for bit; index types the kernel does
    not take fall back to the public product."""
    profiles = neighbour_profiles(matrix, sp.csr_matrix(matrix.T), 15)
    everything = profiles.select(np.arange(profiles.n_rows))
    expected = _sorted_rows(everything @ profiles.postings)
    assert rows_times(everything.indptr, everything.indices, everything.data, profiles.postings) is not None
    block = _sorted_rows(profiles.overlap(everything))
    assert np.array_equal(block.indptr, expected.indptr) and np.array_equal(block.indices, expected.indices)
    assert block.data.dtype == np.float32 and np.array_equal(block.data, expected.data)
    for row in (0, 17, 311, 599):
        one = _sorted_rows(profiles.overlap(profiles.select(np.array([row]))))
        assert np.array_equal(one.indices, expected[row].indices) and np.array_equal(one.data, expected[row].data)
    wide = NeighbourProfiles(profiles.rows, profiles.m, sp.csr_matrix(profiles.postings, dtype=np.float32))
    wide._postings.indptr = wide._postings.indptr.astype(np.int64)  # indices stay int32: the public product
    assert rows_times(np.array([0, 15]), *wide.row(17), wide.postings) is None
    one = _sorted_rows(wide.overlap(wide.select(np.array([17]))))
    assert np.array_equal(one.indices, expected[17].indices) and np.array_equal(one.data, expected[17].data)


@pytest.mark.parametrize("n_fit", [600, 590])  # 590: rows changed by additions live in an overlay
def test_core_overlap_equals_the_formula_one_row_or_a_block_bit_for_bit(matrix, n_fit):
    n, core = matrix.shape[0], 5
    profiles = neighbour_profiles(matrix[:n_fit], sp.csr_matrix(matrix[:n_fit].T), 15, core=core, core_weight=0.5)
    if n_fit < n:
        cosines = _dense_cosines(matrix)
        profiles = profiles.added(lambda i: cosines[n_fit + i, :n_fit + i], n - n_fit)
    q = profiles.rows.toarray().astype(np.float64)
    kth = np.array([np.sort(row[row > 0])[-core] if (row > 0).sum() >= core else 0.0 for row in q])
    cores = np.where(q >= kth[:, None], q, 0.0)
    norms = np.sqrt(1 + (cores * cores).sum(axis=1))
    expected = (cores @ cores.T) / np.outer(norms, norms)
    rows = np.array([0, 17, 311, n - 1, 5])
    block = profiles.core_of_rows(rows)
    assert block.has_sorted_indices and np.allclose(block.toarray(), expected[rows], atol=1e-6)
    for position, row in enumerate(rows.tolist()):
        one = profiles.core_of_rows(np.array([row]))
        assert np.all(np.diff(one.indices) > 0)  # sorted: the story tier searches it
        assert np.array_equal(one.indices, block[position].indices) and np.array_equal(one.data, block[position].data)
        assert one.nnz == (expected[row] > 0).sum()


@pytest.mark.parametrize("n_fit", [590, 300])  # few additions stay in the overlay; many merge into a new base
def test_growth_keeps_existing_profiles_exact_and_applies_the_newcomer_rule(matrix, n_fit):
    m = 15
    cosines = _dense_cosines(matrix)
    n = matrix.shape[0]
    fitted = neighbour_profiles(matrix[:n_fit], sp.csr_matrix(matrix[:n_fit].T), m)
    grown = fitted.added(lambda i: cosines[n_fit + i, :n_fit + i], n - n_fit)
    # reference, one newcomer at a time: existing profiles are the exact top m of the rows so far
    profiles = {row: _best(cosines[row, :n_fit], m) for row in range(n_fit)}
    for new in range(n_fit, n):
        kth = {row: (min(cosines[row, c] for c in p) if len(p) >= m else 0.0) for row, p in profiles.items()}
        mine = [c for c in _best(cosines[new, :new], m) if cosines[new, c] > kth[c]]
        for row in range(new):
            if cosines[new, row] > kth[row]:
                profiles[row] = _best(np.where(np.isin(np.arange(new + 1), profiles[row] + [new]), cosines[row, :new + 1], 0), m)
        profiles[new] = sorted(mine)
    for row in range(n):
        assert _profile(grown, row) == profiles[row], row
    for row in range(n_fit):  # and the old rows equal a fresh search over the grown archive
        assert _profile(grown, row) == _best(cosines[row], m)
    rows = grown.rows
    assert abs(grown.postings - rows.T).max() < 1e-7
    expected = _anchored_dense(cosines + np.eye(n), rows)
    for row in (0, n_fit, n - 1):
        assert np.allclose(grown.for_row(row, (cosines[row] + np.eye(n)[row]).astype(np.float32)), expected[row], atol=1e-5)
    assert fitted.n_rows == n_fit  # the original is untouched


@pytest.mark.parametrize("n_fit", [600, 560])
def test_links_merge_each_profile_with_the_profiles_that_hold_it(matrix, n_fit):
    cosines = _dense_cosines(matrix)
    n = matrix.shape[0]
    profiles = neighbour_profiles(matrix[:n_fit], sp.csr_matrix(matrix[:n_fit].T), 15)
    if n_fit < n:  # rows changed by additions live in an overlay
        profiles = profiles.added(lambda i: cosines[n_fit + i, :n_fit + i], n - n_fit)
    for rows in (np.array([3]), np.array([n - 1]), np.array([7, 0, 599, 7, 250])):
        indptr, indices, data = profiles.links(rows, profiles.select(rows))
        expected = profiles.select(rows).maximum(profiles.postings[rows])  # canonical: sorted, each once
        assert indptr.tolist() == expected.indptr.tolist() and indices.tolist() == expected.indices.tolist()
        assert data.dtype == np.float32 and np.array_equal(data, expected.data)
        assert len(indices) > len(rows)


def test_newcomer_profile_of_a_text(matrix):
    profiles = neighbour_profiles(matrix, sp.csr_matrix(matrix.T), 15)
    cosines = (matrix[7] @ matrix.T).toarray().ravel().astype(np.float32)
    indices, data = profiles.newcomer_profile(cosines)
    assert 7 in indices  # an indexed copy of the text is its best neighbour
    assert all(cosines[c] > profiles.kth[c] for c in indices) and len(indices) <= 15
    scores = profiles.for_text(cosines)
    norm = np.sqrt(1 + np.dot(data, data))
    expected = (cosines + profiles.rows[:, indices] @ data) / (norm * profiles.norms)
    assert np.allclose(scores, expected, atol=1e-5)


def test_model_scores_rank_by_the_anchored_score_and_survive_save_and_load(tmp_path):
    articles = list(generate_articles(400, seed=9))
    model = Recommender(neighbours=20).fit(articles[:380])
    model.add_articles(articles[380:])
    ids = model.article_ids
    similarity = model.similarity(ids[:50], ids)
    for position in (0, 10, 49):
        hits = model.related(ids[position], k=5)
        assert hits, ids[position]
        for hit in hits:
            assert similarity[position, ids.index(hit.article_id)] == pytest.approx(hit.score, abs=1e-5)
    model.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m", mmap=True)
    assert loaded.profiles_.m == 20
    for article_id in ids[::37]:  # the overlay of additions is merged on save: float sums may differ in the last bit
        before, after = model.related(article_id), loaded.related(article_id)
        assert [h.article_id for h in after] == [h.article_id for h in before]
        assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-6)
    batch_ids, _ = loaded.related_batch(ids[::37], k=10)
    assert [[i for i in row if i] for row in batch_ids] == [[h.article_id for h in model.related(a)] for a in ids[::37]]
    plain = Recommender(neighbours=0).fit(articles)
    assert plain.profiles_ is None
    cosine = (plain.index_.vectors[:3] @ plain.index_.vectors.T).toarray()
    assert np.allclose(plain.similarity(plain.article_ids[:3], plain.article_ids), cosine, atol=1e-6)


def test_near_duplicates_are_judged_by_cosine_not_by_the_anchored_score():
    articles = list(generate_articles(300, seed=2))
    model = Recommender().fit(articles)
    cosines = (model.index_.vectors @ model.index_.vectors.T).toarray()
    anchored = model.similarity(model.article_ids)
    np.fill_diagonal(cosines, 0)
    np.fill_diagonal(anchored, 0)
    # pairs the anchored score puts above the duplicate threshold though their words differ stay
    # listed, unless a near-duplicate of theirs is listed already
    for a, b in np.argwhere((anchored >= 0.8) & (cosines < 0.8))[:20]:
        hits = model.catalog_.rows(h.article_id for h in model.related(model.article_ids[a], k=50))
        assert b in hits or (cosines[b, hits] >= 0.8).any()
    for a, b in np.argwhere(cosines >= 0.8)[:20]:
        assert model.article_ids[b] not in [h.article_id for h in model.related(model.article_ids[a], k=50)]


def test_near_duplicate_pairs_from_profiles_match_pair_scores(sample_articles):
    from recommender._distinct import drop_near_duplicates

    republished = [a for a in sample_articles if a.id == "a054"]  # a wire story also published as a004, a018
    model = Recommender().fit([a for a in sample_articles if a.id != "a054"])
    model.related(model.article_ids[0])  # builds the near-duplicate pairs once
    model.add_articles(republished)  # the pairs are extended, not rebuilt
    state = model._state
    pairs = state.profiles.near_duplicates(model.duplicate_threshold)
    cosines = (state.index.vectors @ state.index.vectors.T).toarray()
    np.fill_diagonal(cosines, 0)
    assert np.array_equal(pairs.toarray() > 0, cosines >= model.duplicate_threshold)
    assert pairs.nnz == 6  # a004, a018, a054: three pairs, both ways
    rng = np.random.default_rng(0)
    for _ in range(30):
        ordered = rng.permutation(state.index.n_rows)[:25]
        with_profiles = drop_near_duplicates(ordered, state.index, model.duplicate_threshold, 10, None, state.profiles)
        assert with_profiles == drop_near_duplicates(ordered, state.index, model.duplicate_threshold, 10)


@pytest.mark.parametrize("kernel", ["sparse_dot_topn", "numba"])
def test_profile_blocks_run_anywhere_give_the_same_profiles(matrix, kernel):
    import joblib

    pytest.importorskip(kernel)
    postings = sp.csr_matrix(matrix.T)
    here = neighbour_profiles(matrix, postings, 12, block_size=64, kernel=kernel)
    seen = []

    def run_blocks(function, arguments):
        seen.append(len(arguments))
        return joblib.Parallel(n_jobs=2, backend="threading", return_as="generator")(
            joblib.delayed(function)(*args) for args in arguments)

    spread = neighbour_profiles(matrix, postings, 12, block_size=64, run_blocks=run_blocks, kernel=kernel)
    assert seen == [10]
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(spread.rows, name), getattr(here.rows, name))


def test_compiled_kernel_on_a_dask_cluster_equals_a_local_search(matrix):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("numba")
    import joblib

    postings = sp.csr_matrix(matrix.T)
    here = neighbour_profiles(matrix, postings, 12, block_size=200, kernel="numba")

    def on_workers(function, arguments):
        return joblib.Parallel(n_jobs=2, return_as="generator")(joblib.delayed(function)(*args) for args in arguments)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, joblib.parallel_config(backend="dask"):
        spread = neighbour_profiles(matrix, postings, 12, block_size=200, run_blocks=on_workers, kernel="numba")
        workers = client.run(lambda: "numba" in __import__("sys").modules)
    assert len(workers) == 2 and any(workers.values())  # the kernel was compiled on the workers
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(spread.rows, name), getattr(here.rows, name))


def test_fit_on_a_dask_cluster_equals_a_local_fit(monkeypatch, tmp_path):
    distributed = pytest.importorskip("distributed")
    import json

    import joblib

    from recommender import _profile_search as profiles
    from recommender.cli import main

    articles = list(generate_articles(300, seed=5))
    local = Recommender().fit(articles)
    (tmp_path / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles))
    calls = []
    original = profiles.profile_rows

    def counted(*args):
        calls.append(args[2:4])
        return original(*args)

    monkeypatch.setattr(profiles, "profile_rows", counted)  # cloudpickled to the workers by value
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            spread = Recommender().fit(articles)
        assert main(["build", str(tmp_path / "articles.jsonl"), "--out", str(tmp_path / "model"),
                     "--dask", cluster.scheduler_address]) == 0
    assert not calls  # the blocks ran on the workers, not here
    built = Recommender.load(tmp_path / "model")
    for model in (spread, built):
        for name in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(model.profiles_.rows, name), getattr(local.profiles_.rows, name))
    assert [h.article_id for h in spread.related(articles[0]["id"])] == [h.article_id for h in local.related(articles[0]["id"])]
