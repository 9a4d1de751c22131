"""Whole-archive Related lists: ``recommender precompute`` against sparse_dot_topn.

    python benchmarks/bench_precompute.py --articles 10000 --repeats 3
    python benchmarks/bench_precompute.py --model M --repeats 3      # a saved model: no fit

Fits synthetic articles once, then times, on the same matrix, sparse_dot_topn's
``sp_matmul_topn(X, X.T, top_n=11, n_threads=2)`` (exact top 11 per row, nothing else) and
the library's ``precompute(..., n_jobs=2)`` (exact lists equal to ``related()``: masking,
near-duplicate removal, ties by id, written to SQLite). Prints articles/s, median of repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

from recommender import Recommender
from recommender._precompute import precompute
from recommender.evaluation.synthetic import generate_articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--model", help="a model saved with Recommender.save (its current version): skip the fit")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--peer-rows", type=int, default=0,
                        help="time sparse_dot_topn on this many random rows (each against every article) "
                             "instead of all rows: its rate per row is the same, and at 300k+ the whole run takes hours")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.model:
        rec = Recommender.load(args.model)
        n = len(rec.article_ids)
    else:
        n = args.articles
        rec = Recommender(n_jobs=args.n_jobs).fit(list(generate_articles(n, seed=0)))
        print(f"fit {n:,} articles with n_jobs={args.n_jobs}: {time.perf_counter() - start:.0f} s", flush=True)
    print(f"{n:,} articles; Related date prior: {rec.time_scale_days_} days", flush=True)
    peer_rows = np.arange(n)
    if 0 < args.peer_rows < n:
        peer_rows = np.sort(np.random.default_rng(0).choice(n, args.peer_rows, replace=False))
    rates: dict[str, list[float]] = {}
    try:
        from sparse_dot_topn import sp_matmul_topn
    except ImportError:
        sp_matmul_topn = None
    for _ in range(args.repeats):
        if sp_matmul_topn is not None:
            block = rec.index_.vectors[peer_rows]
            start = time.perf_counter()
            sp_matmul_topn(block, rec.index_.postings, top_n=11, n_threads=2)
            rates.setdefault("sparse_dot_topn, 2 threads", []).append(len(peer_rows) / (time.perf_counter() - start))
    with tempfile.TemporaryDirectory() as tmp:
        rec.save(os.path.join(tmp, "m"))
        for repeat in range(args.repeats):
            start = time.perf_counter()
            precompute(os.path.join(tmp, "m"), os.path.join(tmp, f"{repeat}.sqlite"), n_jobs=args.n_jobs,
                       block_size=args.block_size, progress=False)
            rates.setdefault(f"recommender precompute, n_jobs={args.n_jobs}", []).append(n / (time.perf_counter() - start))
    for name, values in rates.items():
        print(f"{name}: {statistics.median(values):,.0f} articles/s (median of {len(values)})")


if __name__ == "__main__":
    main()
