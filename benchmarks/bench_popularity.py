"""Popularity benchmark: record_reactions throughput and ranking() latency.

    python benchmarks/bench_popularity.py --articles 100000 --events 10000000 --batch 10000

Builds a model on N tiny synthetic articles spread over a year, feeds E reaction events in
batches through the public ``Recommender.record_reactions`` (Reaction records: validation,
policies, incremental update), then times ``ranking()`` (popular and trending, all
sections and one section) at a fixed ``now``. Prints a markdown table and, with --json,
writes the figures. Peak memory is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from datetime import datetime, timedelta, timezone

import numpy as np

from recommender import Reaction, Recommender

SECTIONS = ["politics", "world", "business", "sports", "tech", "culture", "science", "local"]


def build(n_articles: int, rng: np.random.Generator, end: datetime) -> tuple[Recommender, list[datetime]]:
    start = end - timedelta(days=365)
    offsets = np.sort(rng.uniform(0, 365 * 86400, n_articles))
    published = [start + timedelta(seconds=float(s)) for s in offsets]
    articles = [
        {"id": f"n{i}", "title": f"story {i % 997}", "body": f"word{i % 113} topic{i % 89} item{i}",
         "published_at": published[i], "section": SECTIONS[i % len(SECTIONS)]}
        for i in range(n_articles)
    ]
    return Recommender(explain_terms=0).fit(articles), published


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    now = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)
    t0 = time.perf_counter()
    rec, published = build(args.articles, rng, now)
    fit_seconds = time.perf_counter() - t0

    # events: popular recent stories get most reactions, arriving after publication
    weights = np.exp(-np.arange(args.articles)[::-1] / (args.articles / 20))
    weights /= weights.sum()
    targets = rng.choice(args.articles, size=args.events, p=weights)
    kinds = np.array(["veryGood", "good", "sad", "angry", "surprised"])[rng.integers(0, 5, args.events)]
    record_seconds = 0.0
    for start in range(0, args.events, args.batch):
        chunk = targets[start:start + args.batch]
        delays = rng.exponential(6 * 3600, len(chunk))
        batch = [Reaction(f"n{t}", str(kind), 1, min(published[t] + timedelta(seconds=float(d)), now))
                 for t, kind, d in zip(chunk, kinds[start:start + args.batch], delays)]
        t0 = time.perf_counter()
        rec.record_reactions(batch, now=now)
        record_seconds += time.perf_counter() - t0

    timings = {}
    for label, kwargs in [("popular", {}), ("trending", {"mode": "trending"}), ("popular, one section", {"section": "tech"})]:
        rec.ranking(k=8, now=now, **kwargs)
        samples = []
        for _ in range(args.queries):
            t0 = time.perf_counter()
            rec.ranking(k=8, now=now, **kwargs)
            samples.append(time.perf_counter() - t0)
        samples.sort()
        timings[label] = {"median_ms": statistics.median(samples) * 1e3, "p99_ms": samples[int(0.99 * len(samples)) - 1] * 1e3}
    window = len(rec.catalog_.published_between(now.timestamp() - 7 * 86400, now.timestamp()))
    result = {
        "articles": args.articles, "events": args.events, "batch": args.batch, "articles_in_window": window,
        "fit_seconds": fit_seconds, "record_events_per_second": args.events / record_seconds,
        "record_ms_per_batch": record_seconds / (args.events / args.batch) * 1e3,
        "ranking": timings, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(f"articles {args.articles:,} ({window:,} in the 7-day window), events {args.events:,} in batches of {args.batch:,}")
    print(f"record_reactions: {result['record_events_per_second']:,.0f} events/s "
          f"({result['record_ms_per_batch']:.1f} ms per batch); peak RSS {result['peak_rss_mb']:,.0f} MB\n")
    print("| ranking() | median ms | p99 ms |\n| --- | --- | --- |")
    for label, t in timings.items():
        print(f"| {label} | {t['median_ms']:.3f} | {t['p99_ms']:.3f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
