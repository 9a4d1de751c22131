"""Cheaper ways to find the neighbour profiles, against the exact search: time, recall, Related lists.

    python benchmarks/generate_corpus.py 20000 artifacts/c20k.jsonl --seed 0
    python benchmarks/bench_profile_search.py artifacts/c20k.jsonl --sample 1000
    python benchmarks/bench_profile_search.py artifacts/c100k.jsonl --kernels-only
    python benchmarks/bench_profile_search.py artifacts/c300k.jsonl --kernel-rows 2000 --threads 1,2

The fit's all-pairs step finds every article's 50 most similar articles exactly
(``recommender/_profile_search.py``). First the exact search runs over the whole archive with
each kernel that imports (the compiled dense-accumulator kernel with numba,
``sparse_dot_topn``), on 2 threads: time, and whether the profiles are equal. Its cost is the sum
over terms of df², dominated by the frequent terms. The profiles feed the Related score, so a
search that misses profile neighbours changes Related lists. This script runs the exact search
(``sparse_dot_topn``) and each alternative over the whole archive in the same process, then compares, on a sample of
rows: the recall of the exact profiles (top 10 and top 50), the recall@10 of the default
Related lists built from the alternative's profiles against those built from the exact ones,
and the same-story recall@10 of both (the generator's ``story`` key, or ``--story-key``: e.g.
``event`` for the incident reports of ``benchmarks/news_data.py --gva``).

Alternatives (every profile cosine they keep is exact; they differ in which pairs they try):

*rare-term candidates*: candidates from the terms in at most a share of the articles
(``sp_matmul_topn`` over those columns, top ``C`` per row); each candidate's cosine is its
rare-term part plus its frequent-term part from a dense block of the frequent columns; top 50.

*two-hop refinement* (NN-descent): from the first rare-term profiles, each row also tries the
top ``k`` of its top ``k`` neighbours and the rows that hold it in their top ``k``, with exact
cosines; a round with ``k = 10``, then one with ``k = 20``.

Two exact rearrangements of the product are timed per block of rows against
``sp_matmul_topn`` on the same block: *dense frequent terms* (a BLAS product over the frequent
columns, a sparse product over the rest added in, then a partial sort), and *each pair once*
(the product against the later columns only, keeping cosines above a floor, the other half
mirrored). It also prints how local in time the exact profiles are: the premise of a
time-window search.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import resource
import time
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from recommender import Recommender, load_articles
from recommender._profile_search import KERNELS, neighbour_profiles, profile_rows
from recommender._profiles import NeighbourProfiles
from recommender._related.time_prior import AUTO_SCALE_DAYS
from recommender._time_locality import LOCALITY_NEIGHBOURS, time_locality

M = 50
BLOCK = 2048
PAIR_CHUNK = 200_000
HOP_ROUNDS = (10, 20)


# ------------------------------------------------------------------ profiles as (n, M) arrays
def _best(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's best ``M`` distinct columns (ties by column): ``(n_rows, M)`` columns (-1 pad) and cosines."""
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.ones(len(rows), bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, vals = rows[first], cols[first], vals[first]
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = np.bincount(rows, minlength=n_rows)
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = rank < M
    best = np.full((n_rows, M), -1, np.int32)
    cosines = np.full((n_rows, M), -np.inf, np.float32)
    best[rows[keep], rank[keep]] = cols[keep]
    cosines[rows[keep], rank[keep]] = vals[keep]
    return best, cosines


def _as_rows(best: np.ndarray, cosines: np.ndarray) -> sp.csr_matrix:
    n = len(best)
    owner = np.repeat(np.arange(n), M)
    ok = best.ravel() >= 0
    r, c, v = owner[ok], best.ravel()[ok], cosines.ravel()[ok]
    order = np.lexsort((c, r))
    rows = sp.csr_matrix((v[order], c[order], np.concatenate([[0], np.cumsum(ok.reshape(n, M).sum(1))])), shape=(n, n))
    rows.has_sorted_indices = True
    return rows


def _split(vectors: sp.csr_matrix, share: float) -> tuple[np.ndarray, sp.csr_matrix]:
    """The columns of terms in more than ``share`` of the rows as a dense array, the rest sparse."""
    df = np.bincount(vectors.indices, minlength=vectors.shape[1])
    frequent = df > share * vectors.shape[0]
    return (np.ascontiguousarray(vectors[:, np.flatnonzero(frequent)].toarray(), dtype=np.float32),
            sp.csr_matrix(vectors[:, np.flatnonzero(~frequent)]))


def rare_candidates(vectors: sp.csr_matrix, share: float, candidates: int) -> tuple[np.ndarray, np.ndarray]:
    from sparse_dot_topn import sp_matmul_topn

    n = vectors.shape[0]
    dense, rare = _split(vectors, share)
    rare_postings = sp.csr_matrix(rare.T)
    best = np.full((n, M), -1, np.int32)
    cosines = np.full((n, M), -np.inf, np.float32)
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        found = sp.csr_matrix(sp_matmul_topn(rare[start:stop], rare_postings, top_n=candidates + 1, n_threads=2))
        owner = np.repeat(np.arange(stop - start), np.diff(found.indptr))
        other = found.indices
        keep = other != owner + start
        owner, other = owner[keep], other[keep]
        scores = found.data[keep] + np.einsum("ij,ij->i", dense[owner + start], dense[other])
        best[start:stop], cosines[start:stop] = _best(owner, other, scores, stop - start)
    return best, cosines


def two_hops(vectors: sp.csr_matrix, best: np.ndarray, cosines: np.ndarray, share: float,
             k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """One NN-descent round over the top ``k``: neighbours of neighbours and reverse neighbours, exact cosines."""
    n = len(best)
    dense, rare = _split(vectors, share)
    rare.sort_indices()
    source, target = np.repeat(np.arange(n), k), best[:, :k].ravel()
    ok = target >= 0
    reverse = sp.csr_matrix((np.ones(ok.sum(), np.int8), (target[ok], source[ok])), shape=(n, n))
    new_best, new_cosines, tried = np.empty_like(best), np.empty_like(cosines), 0
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        size = stop - start
        near = best[start:stop, :k]
        hops = np.where(near[:, :, None] >= 0, best[np.maximum(near, 0), :k], -1).reshape(size, -1)
        back = reverse[start:stop]
        owner = np.concatenate([np.repeat(np.arange(size), hops.shape[1]), np.repeat(np.arange(size), np.diff(back.indptr))])
        other = np.concatenate([hops.ravel(), back.indices])
        ok = (other >= 0) & (other != owner + start)
        known = best[start:stop].ravel()
        known_keys = (np.repeat(np.arange(size), M).astype(np.int64) * n + known)[known >= 0]
        keys = np.setdiff1d(np.unique(owner[ok].astype(np.int64) * n + other[ok]), known_keys)
        owner, other = keys // n, (keys % n).astype(np.int32)
        tried += len(keys)
        scores = np.empty(len(keys), np.float32)
        for s in range(0, len(keys), PAIR_CHUNK):
            i, j = owner[s:s + PAIR_CHUNK] + start, other[s:s + PAIR_CHUNK]
            scores[s:s + PAIR_CHUNK] = (np.einsum("ij,ij->i", dense[i], dense[j])
                                        + np.asarray(rare[i].multiply(rare[j]).sum(1)).ravel())
        had = known >= 0
        new_best[start:stop], new_cosines[start:stop] = _best(
            np.concatenate([np.repeat(np.arange(size), M)[had], owner]), np.concatenate([known[had], other]),
            np.concatenate([cosines[start:stop].ravel()[had], scores]), size)
    return new_best, new_cosines, tried / n


# ------------------------------------------------------------------ comparisons
def _ranked(rows: sp.csr_matrix, row: int, k: int) -> np.ndarray:
    s, e = rows.indptr[row], rows.indptr[row + 1]
    return rows.indices[s:e][np.lexsort((rows.indices[s:e], -rows.data[s:e]))][:k]


def profile_recall(exact: sp.csr_matrix, found: sp.csr_matrix, sample: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(_ranked(found, a, k)) & set(truth)) / max(1, len(truth))
                          for a in sample for truth in [_ranked(exact, a, k)]]))


def with_profiles(model: Recommender, rows: sp.csr_matrix) -> Recommender:
    """A copy of ``model`` (fitted with ``neighbours=0``) holding ``rows`` as its default profiles."""
    state = model._fitted()
    params = Recommender().get_params()
    profiles = NeighbourProfiles(rows, M, core=params["core_neighbours"], core_weight=params["core_weight"])
    locality = time_locality(*profiles.closest_links(LOCALITY_NEIGHBOURS), state.catalog.published, AUTO_SCALE_DAYS)
    other = copy.copy(model)
    other._state = replace(state, profiles=profiles, time_locality=locality)
    return other


def story_recall(ids: list[str], lists: np.ndarray, mates: dict[str, set[str]]) -> float:
    """Mean same-story recall@10 over the sampled articles with a story mate (nan without any)."""
    values = [len(set(shown) & mates[a]) / min(10, len(mates[a])) for a, shown in zip(ids, lists) if a in mates]
    return float(np.mean(values)) if values else float("nan")


def _as_csr(found: tuple[np.ndarray, np.ndarray, np.ndarray], n: int) -> sp.csr_matrix:
    counts, columns, cosines = found
    return sp.csr_matrix((cosines, columns, np.concatenate([[0], np.cumsum(counts)])), shape=(len(counts), n))


def _agreement(rows: sp.csr_matrix, reference: sp.csr_matrix) -> str:
    """"yes" when equal bit for bit; else how many rows differ: only by exact ties at the last place, or
    the share of the reference's entries found and the largest cosine difference of those found."""
    if all(np.array_equal(getattr(rows, a), getattr(reference, a)) for a in ("indptr", "indices", "data")):
        return "yes"
    differ = [r for r in range(rows.shape[0]) if not (np.array_equal(rows[r].indices, reference[r].indices)
                                                      and np.array_equal(rows[r].data, reference[r].data))]
    if all(np.array_equal(np.sort(rows[r].data), np.sort(reference[r].data)) for r in differ):
        return f"{len(differ)} rows differ, only by exact ties at the last place"
    found = reference.multiply(rows != 0)  # the reference's entries that the search also holds
    shared = rows.multiply(reference != 0)
    return (f"{len(differ)} rows differ in rounding; {found.nnz / reference.nnz:.7f} of the entries found, "
            f"cosines within {abs(found - shared).max():.1e}")


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    from sparse_dot_topn import sp_matmul, sp_matmul_topn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles")
    parser.add_argument("--sample", type=int, default=1000, help="rows whose profiles and Related lists are compared")
    parser.add_argument("--threads", default="2", help="thread counts of the exact search, e.g. 1,2 (the last "
                        "one's sparse_dot_topn run is the reference of the alternatives)")
    parser.add_argument("--kernel-rows", type=int, default=0,
                        help="time the kernels on this many rows (each against the whole archive), not every row")
    parser.add_argument("--kernels-only", action="store_true", help="time the exact kernels, skip the alternatives")
    parser.add_argument("--story-key", default="story", help="record key naming each article's story")
    parser.add_argument("--configs", default="0.10:100,0.10:200,0.15:100,0.15:150,0.20:100",
                        help="rare-term candidate searches, as share:candidates pairs")
    args = parser.parse_args()
    articles = load_articles(args.articles)
    model = Recommender(neighbours=0).fit(articles)
    index = model._fitted().index
    vectors = sp.csr_matrix((np.array(index.vectors.data, np.float32), np.array(index.vectors.indices, np.int32),
                             np.array(index.vectors.indptr, np.int32)), shape=index.vectors.shape)
    postings = sp.csr_matrix(vectors.T)
    n = vectors.shape[0]
    sample = np.sort(np.random.default_rng(0).choice(n, min(n, args.sample), replace=False))
    ids = [model.article_ids[a] for a in sample]
    stories: dict[str, list[str]] = {}
    for article in map(json.loads, open(args.articles, encoding="utf-8")):
        if article.get(args.story_key):
            stories.setdefault(article[args.story_key], []).append(article["id"])
    mates = {a: set(group) - {a} for group in stories.values() if len(group) > 1 for a in group}

    what = f"{args.kernel_rows:,} rows from the middle, each against" if args.kernel_rows else "every row against"
    print(f"{n:,} articles: the exact search, {what} all {n:,}\n")
    print("| kernel | threads | seconds | articles/s | time vs sparse_dot_topn | CPU seconds | CPU vs sparse_dot_topn | "
          "profiles equal to sparse_dot_topn's |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |")
    timed, cpu_seconds = {}, {}
    for threads in sorted(int(t) for t in args.threads.split(",")):
        kernels = [k for k in KERNELS[:-1] if importlib.util.find_spec("numba" if k == "pairs" else k)]
        for kernel in kernels[::-1] if not args.kernel_rows else [k for k in kernels[::-1] if k != "pairs"]:
            neighbour_profiles(vectors[:64], sp.csr_matrix(vectors[:64].T), M, kernel=kernel)  # compile, import
            start, cpu = time.perf_counter(), time.process_time()
            if args.kernel_rows:  # a slice of rows, each against the whole archive: the per-row rate
                first = n // 2
                found = profile_rows(vectors, postings, first, min(n, first + args.kernel_rows), M, threads, kernel)
                timed[kernel] = (found, time.perf_counter() - start)
            else:
                timed[kernel] = (neighbour_profiles(vectors, postings, M, n_threads=threads, kernel=kernel).rows,
                                 time.perf_counter() - start)
            cpu_seconds[kernel] = time.process_time() - cpu
            rows, seconds = timed[kernel]
            reference, reference_seconds = timed["sparse_dot_topn"]
            if args.kernel_rows:
                rows = _as_csr(rows, n)
                reference = _as_csr(reference, n)
            done = rows.shape[0] if not args.kernel_rows else args.kernel_rows
            equal = _agreement(rows, reference)
            print(f"| {kernel} | {threads} | {seconds:.1f} | {done / seconds:,.0f} | {seconds / reference_seconds:.2f}× | "
                  f"{cpu_seconds[kernel]:.1f} | {cpu_seconds[kernel] / cpu_seconds['sparse_dot_topn']:.2f}× | {equal} |",
                  flush=True)
    print(f"\npeak RSS {_peak_gb():.2f} GB\n")
    if args.kernels_only or args.kernel_rows:
        return
    exact, exact_seconds = timed["sparse_dot_topn"]
    exact_model = with_profiles(model, exact)
    exact_lists, _ = exact_model.related_batch(ids)
    print(f"{len(sample)} sampled rows; times below against sparse_dot_topn's {exact_seconds:.1f} s, "
          f"peak RSS so far {_peak_gb():.2f} GB; same-story recall@10 of the exact Related lists "
          f"{story_recall(ids, exact_lists, mates):.4f}\n")

    def report(name: str, seconds: float, best: np.ndarray, cosines: np.ndarray) -> None:
        rows = _as_rows(best, cosines)
        lists, _ = with_profiles(model, rows).related_batch(ids)
        related = np.mean([len(set(x) & set(y) - {""}) / max(1, len(set(x) - {""})) for x, y in zip(exact_lists, lists)])
        print(f"| {name} | {seconds / exact_seconds:.2f}× | {profile_recall(exact, rows, sample, 10):.4f} | "
              f"{profile_recall(exact, rows, sample, M):.4f} | {related:.4f} | {story_recall(ids, lists, mates):.4f} |",
              flush=True)

    print("| search (whole archive) | time vs exact | profile recall@10 | profile recall@50 | Related recall@10 | "
          "same-story recall@10 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    configs = [(float(s), int(c)) for s, c in (pair.split(":") for pair in args.configs.split(","))]
    for share, candidates in configs:
        start = time.perf_counter()
        best, cosines = rare_candidates(vectors, share, candidates)
        report(f"rare-term candidates: df ≤ {share:.0%}, C = {candidates}", time.perf_counter() - start, best, cosines)
    share, candidates = configs[0]
    start = time.perf_counter()
    best, cosines = rare_candidates(vectors, share, candidates)
    for k in HOP_ROUNDS:
        best, cosines, tried = two_hops(vectors, best, cosines, share, k)
        report(f"the first, then a two-hop round over the top {k} ({tried:.0f} pairs per row)",
               time.perf_counter() - start, best, cosines)
    print(f"\npeak RSS {_peak_gb():.2f} GB")

    print("\nexact rearrangements, one block of 1,024 rows (median of 3), against sp_matmul_topn on the same block\n")
    print("| rearrangement | time vs sp_matmul_topn |")
    print("| --- | ---: |")
    block = min(1024, n // 2)
    floor = float(np.percentile([np.min(exact.data[exact.indptr[a]:exact.indptr[a + 1]]) for a in sample], 1))
    middle = n // 2
    later = sp.csr_matrix(postings[:, middle:])
    rows = vectors[middle:middle + block]
    def ratio_to_exact(rearranged) -> float:
        """Median over 3 runs of ``rearranged()``'s time over the exact block search's."""
        ratios = []
        for _ in range(3):
            start = time.perf_counter()
            rearranged()
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            sp_matmul_topn(rows, postings, top_n=M + 1, n_threads=2)
            ratios.append(seconds / (time.perf_counter() - start))
        return float(np.median(ratios))

    for share in (0.10, 0.20):
        dense, rare = _split(vectors, share)
        dense_t, rare_postings = np.ascontiguousarray(dense.T), sp.csr_matrix(rare.T)

        def dense_plus_rare() -> None:
            scores = dense[middle:middle + block] @ dense_t
            product = sp_matmul(rare[middle:middle + block], rare_postings, n_threads=2)
            owner = np.repeat(np.arange(block), np.diff(product.indptr))
            scores.reshape(-1)[owner * n + product.indices] += product.data
            np.argpartition(scores, n - M - 1, axis=1)

        print(f"| dense frequent terms (df > {share:.0%}, {dense.shape[1]} columns, BLAS) + sparse rest | "
              f"{ratio_to_exact(dense_plus_rare):.2f}× |")
    half = ratio_to_exact(lambda: sp_matmul_topn(rows, later, top_n=n - middle, threshold=floor, n_threads=2))
    print(f"| each pair once: a middle block against the later half of the columns, cosines ≥ {floor:.3f} kept | "
          f"{half:.2f}× |")

    times = np.array([a.published_at.timestamp() for a in articles]) / 86_400
    print(f"\nprofile links within a window of publication dates (archive spans {np.ptp(times):.0f} days)\n")
    print("| window | share of top-10 links | share of top-50 links |")
    print("| ---: | ---: | ---: |")
    truth = [(_ranked(exact, a, M), a) for a in sample]
    for days in (7, 30, 90, 365):
        near10 = np.mean([np.mean(np.abs(times[t[:10]] - times[a]) <= days) for t, a in truth if len(t)])
        near50 = np.mean([np.mean(np.abs(times[t] - times[a]) <= days) for t, a in truth if len(t)])
        print(f"| ±{days} days | {near10:.2f} | {near50:.2f} |")


if __name__ == "__main__":
    main()
