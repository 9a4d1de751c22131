"""What editorial control costs: ``related()`` and ``page()`` with and without rules, one run.

    python benchmarks/bench_editorial.py --articles 100000 --queries 500

Fits synthetic articles (``recommender.evaluation.synthetic``; or loads ``--model``, a model
saved by an earlier run with ``--save``), 20 % of them in Spanish and 30 % paywalled, then
times the same random articles under each configuration, round-robin query by query so that
every configuration sees the same machine noise:

* no rules, nothing scheduled (the baseline);
* 1 % of the archive scheduled after ``now`` (the embargo mask);
* 100 items blocked everywhere;
* eligibility rules: Related in the article's language only, Recommendation without paywalled
  stories for anonymous readers;
* a pin and a block under every queried article (its Related list takes the full product);
* all of the above together.

Prints median and p99 milliseconds and the ratio of medians to the baseline.
"""

from __future__ import annotations

import argparse
import copy
import time
from datetime import datetime, timezone

import numpy as np

from recommender import Recommender
from recommender.evaluation.synthetic import generate_articles

ELIGIBILITY = [{"list": "related", "field": "language", "value": "$article"},
               {"list": "recommendation", "field": "paywalled", "value": False, "readers": "anonymous"}]


def _articles(n: int) -> list[dict]:
    rng = np.random.default_rng(1)
    articles = list(generate_articles(n, seed=0))
    spanish, paywalled = rng.random(n) < 0.2, rng.random(n) < 0.3
    for article, es, paid in zip(articles, spanish.tolist(), paywalled.tolist()):
        article["language"] = "es" if es else "en"
        article["paywalled"] = paid
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--model", help="a model saved by --save instead of fitting")
    parser.add_argument("--save", help="save the fitted model here")
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    if args.model:
        base = Recommender.load(args.model, mmap=True)
    else:
        base = Recommender(n_jobs=2).fit(_articles(args.articles))
        if args.save:
            base.save(args.save)
    catalog = base.catalog_
    published = np.sort(catalog.published)
    after_all = datetime.fromtimestamp(int(published[-1]) + 86_400, timezone.utc)
    one_percent = datetime.fromtimestamp(int(published[int(len(published) * 0.99)]) - 1, timezone.utc)
    rng = np.random.default_rng(0)
    live = [i for i in base.article_ids if datetime.fromisoformat(base.article_metadata(i)["published_at"])
            <= one_percent]
    ids = [live[i] for i in rng.integers(0, len(live), args.queries)]
    blocked = [base.article_ids[i] for i in rng.integers(0, len(base.article_ids), 100)]

    def ruled(*, blocks=False, eligibility=False, under=False) -> Recommender:
        rec = copy.copy(base)
        for item in blocks and blocked or ():
            rec.block(item)
        if eligibility:
            rec.set_eligibility(ELIGIBILITY)
        for position, article_id in enumerate(under and ids or ()):
            rec.pin(ids[(position + 1) % len(ids)], under=article_id, position=3)
            rec.block(ids[(position + 2) % len(ids)], under=article_id)
        return rec

    configs = {
        "no rules": (base, after_all),
        "1% scheduled after now": (base, one_percent),
        "100 blocks everywhere": (ruled(blocks=True), after_all),
        "eligibility: same language, no paywall": (ruled(eligibility=True), after_all),
        "pin + block under the article": (ruled(under=True), after_all),
        "all of the above": (ruled(blocks=True, eligibility=True, under=True), one_percent),
    }
    print(f"{len(base.article_ids):,} articles, {args.queries:,} queries, both columns from one run\n")
    for call in ("related", "page"):
        times = {name: [] for name in configs}
        for name, (rec, now) in configs.items():  # warm caches and masks
            for article_id in ids[:20]:
                getattr(rec, call)(article_id, now=now)
        for article_id in ids:
            for name, (rec, now) in configs.items():
                start = time.perf_counter()
                getattr(rec, call)(article_id, now=now)
                times[name].append(time.perf_counter() - start)
        baseline = np.median(times["no rules"])
        print(f"| {call}() | median ms | p99 ms | vs no rules |")
        print("| --- | ---: | ---: | ---: |")
        for name, values in times.items():
            values = np.array(values) * 1000
            print(f"| {name} | {np.median(values):.3f} | {np.percentile(values, 99):.2f} "
                  f"| {np.median(values) / (baseline * 1000):.2f}× |", flush=True)
        print()


if __name__ == "__main__":
    main()
