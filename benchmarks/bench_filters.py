"""Filtered ``related()`` calls: from the neighbour profiles against the full product, one run.

    python benchmarks/bench_filters.py --articles 100000 --queries 1000

Fits synthetic articles (or loads ``--model``), then times ``related()`` with default filters,
``same_section=True``, ``same_section=False`` and ``max_age=7 days`` on the same random
articles, twice: as the library runs them (the profiles' candidates and score bounds, the
full product where those cannot settle a list) and forced through the full product over the
archive's postings. Prints median and p99 milliseconds; the lists are equal either way
(``tests/test_precompute.py``).
"""

from __future__ import annotations

import argparse
import copy
import time
from datetime import timedelta

import numpy as np

from recommender import Recommender
from recommender.evaluation.synthetic import generate_articles

FILTERS = {
    "default filters": {},
    "same_section=True": {"same_section": True},
    "same_section=False": {"same_section": False},
    "max_age=7 days": {"max_age": timedelta(days=7)},
}


def _times(rec: Recommender, ids: list[str], filters: dict) -> np.ndarray:
    for article_id in ids[:50]:  # warm the mapped pages and caches
        rec.related(article_id, **filters)
    times = []
    for article_id in ids:
        start = time.perf_counter()
        rec.related(article_id, **filters)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--model", help="a saved model directory instead of fitting synthetic articles")
    parser.add_argument("--queries", type=int, default=1_000)
    args = parser.parse_args()
    if args.model:
        rec = Recommender.load(args.model, mmap=True)
    else:
        rec = Recommender(n_jobs=2).fit(list(generate_articles(args.articles, seed=0)))
    rng = np.random.default_rng(0)
    ids = [rec.article_ids[i] for i in rng.integers(0, len(rec.article_ids), args.queries)]
    print(f"{len(rec.article_ids):,} articles, {args.queries:,} queries\n")
    print("| call | library: median ms | p99 ms | full product: median ms | p99 ms | speed-up |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, filters in FILTERS.items():
        ours = _times(rec, ids, filters)
        full = _times(copy.copy(rec).set_params(strategy="full"), ids, filters)
        print(f"| {name} | {np.median(ours):.3f} | {np.percentile(ours, 99):.2f} | {np.median(full):.3f} "
              f"| {np.percentile(full, 99):.2f} | {np.median(full) / np.median(ours):.1f}× |", flush=True)


if __name__ == "__main__":
    main()
