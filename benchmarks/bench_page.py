"""page() against the three list calls it replaces, and what serving a published model costs.

    python benchmarks/bench_page.py --articles 100000 --queries 200

Fits N synthetic articles (``generate_articles``) with their synthetic reactions, fixes the
site clock ``SITE_CLOCK_HOURS`` after the last publication (reactions after it are left out:
the synthetic ones trail on for days, and a clock set after them would leave the ranking
window, and so the Ranking list and the popular candidates, empty), and times, over the same
random articles each with a 3-item reading history:

* ``page()``: the three lists of a page, one call, every request at the site clock (the
  Ranking window's scores kept from the first), and every request at its own second after it
  (what a site that passes no ``now`` sees at under one request per second);
* ``related() + ranking() + recommend()``: the three lists called separately (no cross-list
  exclusions: what a site would do without ``page()``);
* ``ModelHandle.model``: the per-request cost of a handle checking ``current`` (every access,
  ``check_interval=0``), and ``ModelHandle.refresh()`` picking up a new version (mmap load);
* the shared update log: appending a one-reaction update, a poll that finds nothing, and a
  poll folding one entry another handle appended.

Prints median and p99 in milliseconds as a table and, with ``--json``, as JSON. ``--clock cpu``
times the process's CPU time instead of the wall clock (steadier on a machine shared with other
jobs); ``--model DIR --now T`` times a saved model instead of fitting one, and ``--save DIR``
keeps the fitted model for that. ``--callgrind CALL`` (under ``valgrind --tool=callgrind
--instr-atstart=no``) counts the instructions of one call kind instead, which stay the same
on a busy machine::

    valgrind --tool=callgrind --instr-atstart=no "$(python -c 'import sys; print(sys.executable)')" \
        benchmarks/bench_page.py --model DIR --now T --queries 40 --callgrind page
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timedelta

import numpy as np

from recommender import ModelHandle, Recommender, load_reactions
from recommender.evaluation.synthetic import generate_articles, generate_reactions


CLOCK = time.perf_counter

SITE_CLOCK_HOURS = 6
"""The site clock: this many hours after the newest article (a live site's Ranking list is full)."""


def site_clock(articles: list[dict], reactions: list) -> tuple[datetime, list]:
    """The benchmark's ``now`` and the reactions recorded by then."""
    newest = max(datetime.fromisoformat(article["published_at"]) for article in articles)
    now = newest + timedelta(hours=SITE_CLOCK_HOURS)
    return now, [reaction for reaction in reactions if reaction.at <= now]


def timed(call, repeats: list) -> list[float]:
    times = []
    for arguments in repeats:
        start = CLOCK()
        call(*arguments)
        times.append((CLOCK() - start) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(times), "p99_ms": float(np.percentile(times, 99))}


def fresh_pages(rec, now):
    """``page()`` with every request one second after the last: a site that passes no ``now``
    asks at the current second, so nothing is kept from the last request's moment."""
    seconds = itertools.count(1)
    return lambda a, h: rec.page(a, history=h, now=now + timedelta(seconds=next(seconds)))


CALLS = {
    "page": lambda rec, now: lambda a, h: rec.page(a, history=h, now=now),
    "page-fresh": fresh_pages,
    "related": lambda rec, now: lambda a, h: rec.related(a),
    "recommend": lambda rec, now: lambda a, h: rec.recommend(a, history=h, now=now),
    "ranking": lambda rec, now: lambda a, h: rec.ranking(now=now),
}
"""The calls timed (and counted with ``--callgrind``), each made from ``(rec, now)``."""


def count_instructions(call, requests: list) -> None:
    """Switch callgrind's collection on around ``call`` over ``requests`` (20 warm-up calls first)."""
    for arguments in requests[:20]:
        call(*arguments)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for arguments in requests:
        call(*arguments)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def storage_figures(rec, now, ids) -> dict:
    """The handle and the update log: per-request checks, reloads, appends and polls."""
    figures = {}
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
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--model", help="time this saved model (with --now) instead of fitting one")
    parser.add_argument("--now", help="the site clock for --model (ISO 8601 with zone)")
    parser.add_argument("--save", help="save the fitted model here (time it again later with --model DIR --now T)")
    parser.add_argument("--skip-storage", action="store_true", help="time the lists only (no handle, no log)")
    parser.add_argument("--callgrind", choices=sorted(CALLS),
                        help="under valgrind --tool=callgrind --instr-atstart=no: count the instructions of this call "
                             "over the requests (after 20 warm-up requests), no timing")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    start = time.perf_counter()
    if args.model:
        rec, now, n_reactions = Recommender.load(args.model, mmap=True), datetime.fromisoformat(args.now), None
    else:
        articles = list(generate_articles(args.articles, seed=args.seed))
        now, reactions = site_clock(articles, load_reactions(list(generate_reactions(articles, seed=args.seed))))
        n_reactions = len(reactions)
        rec = Recommender(n_jobs=2).fit(articles, reactions=reactions, now=now)
        if args.save:
            rec.save(args.save)
            print(f"saved to {args.save}; time it again with --model {args.save} --now {now.isoformat()}")
    fit_seconds = time.perf_counter() - start
    rng = random.Random(args.seed)
    ids = rec.article_ids
    requests = [(rng.choice(ids), [rng.choice(ids) for _ in range(3)]) for _ in range(args.queries)]
    if args.callgrind:
        count_instructions(CALLS[args.callgrind](rec, now), requests)
        return
    for article_id, history in requests:  # steady state: a serving process has mapped the pages its requests read
        rec.page(article_id, history=history, now=now)

    def separately(article_id, history):
        rec.related(article_id)
        rec.ranking(now=now)
        rec.recommend(article_id, history=history, now=now)

    figures = {
        "page()": summary(timed(lambda a, h: rec.page(a, history=h, now=now), requests)),
        "page(), each at its own second": summary(timed(CALLS["page-fresh"](rec, now), requests)),
        "related + ranking + recommend": summary(timed(separately, requests)),
        "related()": summary(timed(lambda a, h: rec.related(a), requests)),
        "ranking()": summary(timed(lambda a, h: rec.ranking(now=now), requests)),
        "recommend()": summary(timed(lambda a, h: rec.recommend(a, history=h, now=now), requests)),
    }
    if not args.skip_storage:
        figures.update(storage_figures(rec, now, ids))
    reactions_read = "the saved model's reactions" if n_reactions is None else f"{n_reactions:,} reactions"
    print(f"{len(ids):,} articles, {reactions_read}, fit or load {fit_seconds:.0f} s, "
          f"{args.queries} requests with a 3-item history, {args.clock} clock")
    print(f"  {'':<34}{'median ms':>10}{'p99 ms':>10}")
    for name, row in figures.items():
        print(f"  {name:<34}{row['median_ms']:>10.3f}{row['p99_ms']:>10.3f}")
    if args.json:
        with open(args.json, "w") as handle_out:
            json.dump({"articles": len(ids), "reactions": n_reactions, "clock": args.clock, "figures": figures}, handle_out, indent=1)


if __name__ == "__main__":
    main()
