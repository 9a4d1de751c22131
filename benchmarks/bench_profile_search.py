"""Cheaper candidate searches for the neighbour profiles, against the exact search: recall and time.

    python benchmarks/generate_corpus.py 20000 artifacts/c20k.jsonl --seed 0
    python benchmarks/bench_profile_search.py artifacts/c20k.jsonl --sample 540

The fit's all-pairs step finds every article's 50 most similar articles exactly
(``sp_matmul_topn`` over all terms, ``recommender/_profile_search.py``). Its cost is
dominated by the frequent terms (sum of df² over terms). This script measures, on a sample
of rows each searched against the whole archive, the obvious way to cut it:

*term split*: candidates from the rare terms only (document frequency at most a share of
the archive; ``sp_matmul_topn`` over those columns, top ``C``), then each candidate's exact
cosine (its frequent-term part added from a dense block of the frequent columns), top 50.

It prints the time against the exact search on the same rows, and the recall of the exact
top 10 and top 50. It also prints how local in time the exact profiles are (the share of
profile links within a window of publication dates), the premise of a time-window search.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from recommender import Recommender, load_articles

M = 50


def _ranked(columns: np.ndarray, scores: np.ndarray, own: int) -> np.ndarray:
    keep = columns != own
    columns, scores = columns[keep], scores[keep]
    return columns[np.lexsort((columns, -scores))]


def _recall(found: list[np.ndarray], truth: list[np.ndarray], k: int) -> float:
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / max(1, min(k, len(t))) for f, t in zip(found, truth)]))


def main() -> None:
    from sparse_dot_topn import sp_matmul_topn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles")
    parser.add_argument("--sample", type=int, default=500, help="rows searched (each against every article)")
    args = parser.parse_args()
    articles = load_articles(args.articles)
    model = Recommender(neighbours=0).fit(articles)
    vectors = model._fitted().index.vectors
    vectors = sp.csr_matrix((np.array(vectors.data), np.array(vectors.indices, np.int32),
                             np.array(vectors.indptr, np.int32)), shape=vectors.shape)
    postings = sp.csr_matrix(vectors.T)
    n = vectors.shape[0]
    sample = np.random.default_rng(0).choice(n, min(n, args.sample), replace=False)
    sample.sort()

    start = time.perf_counter()
    exact = sp.csr_matrix(sp_matmul_topn(vectors[sample], postings, top_n=M + 1, n_threads=2))
    exact_seconds = time.perf_counter() - start
    truth = [_ranked(exact[i].indices, exact[i].data, row) for i, row in enumerate(sample)]
    print(f"{n:,} articles, {len(sample)} sampled rows; exact search {exact_seconds:.2f} s\n")

    df = np.diff(postings.indptr)
    print("| frequent terms: df above | frequent terms | share of sum df² | candidates C | time vs exact | "
          "recall@10 | recall@50 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    total = float(np.square(df.astype(np.float64)).sum())
    for share, candidates in [(0.05, 100), (0.05, 200), (0.10, 100), (0.10, 200), (0.15, 100)]:
        frequent = df > share * n
        dense = vectors[:, np.flatnonzero(frequent)].toarray()
        rare = sp.csr_matrix(vectors[:, np.flatnonzero(~frequent)])
        rare_postings = sp.csr_matrix(rare.T)
        dense[sample[0]] @ dense[sample[0]]  # touch the pages before timing
        start = time.perf_counter()
        found = sp.csr_matrix(sp_matmul_topn(rare[sample], rare_postings, top_n=candidates + 1, n_threads=2))
        owner = np.repeat(np.arange(len(sample)), np.diff(found.indptr))
        scores = found.data + np.einsum("ij,ij->i", dense[sample[owner]], dense[found.indices])
        ranked = [_ranked(found.indices[found.indptr[i]:found.indptr[i + 1]],
                          scores[found.indptr[i]:found.indptr[i + 1]], row)[:M] for i, row in enumerate(sample)]
        seconds = time.perf_counter() - start
        print(f"| {share:.0%} of articles | {frequent.sum():,} | "
              f"{float(np.square(df[frequent].astype(np.float64)).sum()) / total:.0%} | {candidates} | "
              f"{seconds / exact_seconds:.2f}× | {_recall(ranked, truth, 10):.4f} | {_recall(ranked, truth, M):.4f} |",
              flush=True)

    times = np.array([a.published_at.timestamp() for a in articles]) / 86_400
    print(f"\nprofile links within a window of publication dates (archive spans {np.ptp(times):.0f} days)\n")
    print("| window | share of top-10 links | share of top-50 links |")
    print("| ---: | ---: | ---: |")
    for days in (7, 30, 90):
        pairs = [(t, row) for t, row in zip(truth, sample) if len(t)]
        near10 = np.mean([np.mean(np.abs(times[t[:10]] - times[row]) <= days) for t, row in pairs])
        near50 = np.mean([np.mean(np.abs(times[t] - times[row]) <= days) for t, row in pairs])
        print(f"| ±{days} days | {near10:.2f} | {near50:.2f} |")


if __name__ == "__main__":
    main()
