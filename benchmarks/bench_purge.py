"""What a purge costs, next to the calls a site compares it with.

    python benchmarks/bench_purge.py --articles 20000 --repeats 3

Fits N synthetic articles (``generate_articles``) with their reactions and times, each
``--repeats`` times on a fresh copy of the model (median reported):

* ``remove_articles`` of one article (unpublish: a mask);
* ``purge_articles`` of one article in memory (rows, terms, profile entries rebuilt);
* ``save`` of the model (one new version published: the floor of any on-disk purge);
* ``recommender.purge.purge_model`` of one article from a model directory holding three
  versions (the current one and two retained) and an update log of 100 reaction entries:
  publish, rewrite both retained versions, redact and checkpoint the log.

Prints seconds as a table and, with ``--json``, writes them to a file.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from pathlib import Path

from recommender import ModelHandle, Recommender, load_reactions
from recommender.evaluation.synthetic import generate_articles, generate_reactions
from recommender.purge import purge_model


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    articles = list(generate_articles(args.articles, seed=args.seed))
    reactions = load_reactions(list(generate_reactions(articles, seed=args.seed)))
    now = max(reaction.at for reaction in reactions)
    rec = Recommender().fit(articles, reactions=reactions, now=now)
    ids = rec.article_ids
    victims = [ids[(i + 1) * len(ids) // (args.repeats + 2)] for i in range(args.repeats)]
    times: dict[str, list[float]] = {"remove_articles (1 id)": [], "purge_articles (1 id)": [], "save": [],
                                     "purge_model (1 id, 3 versions, log)": []}
    for victim in victims:
        fresh = copy.copy(rec)
        times["remove_articles (1 id)"].append(seconds(lambda: fresh.remove_articles([victim])))
        fresh = copy.copy(rec)
        times["purge_articles (1 id)"].append(seconds(lambda: fresh.purge_articles([victim])))
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "model"
            times["save"].append(seconds(lambda: rec.save(path)))
            rec.save(path)
            rec.save(path)
            handle = ModelHandle(path, updates=True)
            for i in range(100):
                handle.record_reactions([{"article_id": ids[i], "reaction": "good", "at": now.isoformat()}], now=now)
            handle.record_reactions([{"article_id": victim, "reaction": "good", "at": now.isoformat()}], now=now)
            times["purge_model (1 id, 3 versions, log)"].append(seconds(lambda: purge_model(path, [victim])))
    figures = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.articles:,} articles, {len(reactions):,} reactions; median of {args.repeats} runs")
    print(f"  {'':<40}{'seconds':>10}")
    for name, value in figures.items():
        print(f"  {name:<40}{value:>10.3f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"articles": args.articles, "seconds": figures}, out, indent=1)


if __name__ == "__main__":
    main()
