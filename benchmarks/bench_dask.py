"""The fit's neighbour search and the precompute on a multi-process Dask cluster, per core.

    python benchmarks/bench_dask.py --articles 20000 --workers 2

Fits synthetic articles once (``n_jobs=1``), then runs, on the same TF-IDF matrix:

- the fit-time neighbour-profile search (the all-pairs step) here on one thread, and on a
  ``distributed.LocalCluster`` of ``--workers`` worker processes (one thread each) through
  joblib's dask backend, as ``recommender build --dask`` does;
- ``recommender precompute`` of every Related list with ``--workers`` local joblib workers,
  and on the same cluster, as ``recommender precompute --dask`` does.

Each cluster result is checked equal to the local one, bit for bit (for the search: the local
run of the per-row kernel that a cluster's blocks use; a local fit from 20k articles with numba
scores each pair once instead, equal within float32 rounding). Prints articles/s and
articles/s per core. The search's cost per row grows with the archive (every row is
multiplied against all n articles), so a rate measured at n articles becomes
``rate * n / N`` at N articles; ``docs/scaling.md`` turns that into the 10M arithmetic.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np

from recommender import Recommender
from recommender._fit import _neighbour_profiles
from recommender._options import RelatedOptions
from recommender._precompute import precompute
from recommender._profile_search import neighbour_profiles, search_kernel
from recommender.evaluation.synthetic import generate_articles


def _lists(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT list, article_id, rank, item_id, score FROM lists ORDER BY 1, 2, 3").fetchall()


def _same_profiles(a, b) -> bool:
    return all(np.array_equal(getattr(a.rows, name), getattr(b.rows, name)) for name in ("indptr", "indices", "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--block-size", type=int, default=256, help="rows per precompute task")
    args = parser.parse_args()
    import distributed  # the dask extra

    n, workers = args.articles, args.workers
    start = time.perf_counter()
    rec = Recommender(n_jobs=1).fit(list(generate_articles(n, seed=0)))
    print(f"fit {n:,} articles, n_jobs=1: {time.perf_counter() - start:.0f} s", flush=True)
    index, related = rec._fitted().index, RelatedOptions()
    rows = []

    start = time.perf_counter()
    here = _neighbour_profiles(index, related, 1)
    seconds = time.perf_counter() - start
    rows.append((f"profile search, here, 1 thread ({search_kernel(n)})", 1, seconds))
    if search_kernel(n) == "pairs":  # a cluster's blocks run the per-row kernel: compare like with like
        here = neighbour_profiles(index.vectors, index.postings, related.neighbours, core=related.core_neighbours,
                                  core_weight=related.core_weight, kernel="numba")
    with tempfile.TemporaryDirectory() as tmp, \
            distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster, distributed.Client(cluster):
        tmp = Path(tmp)
        start = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            spread = _neighbour_profiles(index, related, workers)
        seconds = time.perf_counter() - start
        assert _same_profiles(spread, here), "the cluster's profiles differ from the local ones"
        rows.append((f"profile search, LocalCluster, {workers} processes", workers, seconds))

        rec.save(tmp / "model")
        start = time.perf_counter()
        precompute(tmp / "model", tmp / "local.sqlite", n_jobs=workers, block_size=args.block_size, progress=False)
        rows.append((f"precompute, here, {workers} joblib workers", workers, time.perf_counter() - start))
        start = time.perf_counter()
        precompute(tmp / "model", tmp / "dask.sqlite", block_size=args.block_size, dask=cluster.scheduler_address,
                   progress=False)
        rows.append((f"precompute, LocalCluster, {workers} processes", workers, time.perf_counter() - start))
        assert _lists(tmp / "dask.sqlite") == _lists(tmp / "local.sqlite"), "the cluster's lists differ"

    print(f"\n{n:,} synthetic articles; cluster results equal to local results\n")
    print("| job | cores | seconds | articles/s | articles/s per core |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, cores, seconds in rows:
        print(f"| {name} | {cores} | {seconds:.1f} | {n / seconds:,.0f} | {n / seconds / cores:,.0f} |")


if __name__ == "__main__":
    main()
