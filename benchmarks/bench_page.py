"""page() against the three list calls it replaces, and what serving a published model costs.

    python benchmarks/bench_page.py --articles 100000 --queries 200

Fits N synthetic articles (``generate_articles``) with their synthetic reactions, fixes the
site clock just after the last reaction, and times, over the same random articles each with a
3-item reading history:

* ``page()``: the three lists of a page, one call;
* ``related() + ranking() + recommend()``: the three lists called separately (no cross-list
  exclusions: what a site would do without ``page()``);
* ``ModelHandle.model``: the per-request cost of a handle checking ``current`` (every access,
  ``check_interval=0``), and ``ModelHandle.refresh()`` picking up a new version (mmap load);
* the shared update log: appending a one-reaction update, a poll that finds nothing, and a
  poll folding one entry another handle appended.

Prints median and p99 in milliseconds as a table and, with ``--json``, as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time

import numpy as np

from recommender import ModelHandle, Recommender, load_reactions
from recommender.evaluation.synthetic import generate_articles, generate_reactions


def timed(call, repeats: list) -> list[float]:
    times = []
    for arguments in repeats:
        start = time.perf_counter()
        call(*arguments)
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(times), "p99_ms": float(np.percentile(times, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    articles = list(generate_articles(args.articles, seed=args.seed))
    reactions = load_reactions(list(generate_reactions(articles, seed=args.seed)))
    now = max(reaction.at for reaction in reactions)
    start = time.perf_counter()
    rec = Recommender().fit(articles, reactions=reactions, now=now)
    fit_seconds = time.perf_counter() - start
    rng = random.Random(args.seed)
    ids = rec.article_ids
    requests = [(rng.choice(ids), [rng.choice(ids) for _ in range(3)]) for _ in range(args.queries)]
    for article_id, history in requests[:10]:  # warm up
        rec.page(article_id, history=history, now=now)

    def separately(article_id, history):
        rec.related(article_id)
        rec.ranking(now=now)
        rec.recommend(article_id, history=history, now=now)

    figures = {
        "page()": summary(timed(lambda a, h: rec.page(a, history=h, now=now), requests)),
        "related + ranking + recommend": summary(timed(separately, requests)),
        "related()": summary(timed(lambda a, h: rec.related(a), requests)),
        "ranking()": summary(timed(lambda a, h: rec.ranking(now=now), requests)),
        "recommend()": summary(timed(lambda a, h: rec.recommend(a, history=h, now=now), requests)),
    }
    with tempfile.TemporaryDirectory() as directory:
        rec.save(directory)
        handle = ModelHandle(directory, check_interval=0)
        figures["handle.model (checks current)"] = summary(timed(lambda: handle.model, [()] * 1000))
        reloads = []
        for _ in range(3):
            rec.save(directory)
            start = time.perf_counter()
            handle.refresh()
            reloads.append((time.perf_counter() - start) * 1000)
        figures["refresh() to a new version"] = summary(reloads)
        shared = ModelHandle(directory, updates=True, staleness=0)
        article_id = ids[0]
        reaction = [{"article_id": article_id, "reaction": "good", "at": now.isoformat()}]
        figures["update log: record_reactions (1)"] = summary(
            timed(lambda: shared.record_reactions(reaction, now=now), [()] * 50))
        figures["update log: poll, nothing new"] = summary(timed(lambda: shared.poll(), [()] * 1000))
        other = ModelHandle(directory, updates=True, staleness=0)
        folds = []
        for _ in range(20):
            shared.record_reactions(reaction, now=now)
            start = time.perf_counter()
            other.poll()
            folds.append((time.perf_counter() - start) * 1000)
        figures["update log: poll, fold 1 entry"] = summary(folds)
    print(f"{args.articles:,} articles, {len(reactions):,} reactions, fit {fit_seconds:.0f} s, "
          f"{args.queries} requests with a 3-item history")
    print(f"  {'':<34}{'median ms':>10}{'p99 ms':>10}")
    for name, row in figures.items():
        print(f"  {name:<34}{row['median_ms']:>10.3f}{row['p99_ms']:>10.3f}")
    if args.json:
        with open(args.json, "w") as handle_out:
            json.dump({"articles": args.articles, "reactions": len(reactions), "figures": figures}, handle_out, indent=1)


if __name__ == "__main__":
    main()
