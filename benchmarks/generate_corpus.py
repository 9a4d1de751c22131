"""Write a synthetic news corpus (and optionally reactions) to files, streaming.

    python benchmarks/generate_corpus.py 100000 artifacts/synthetic.jsonl.gz --seed 0 \\
        --stories artifacts/synthetic_stories.json --reactions artifacts/synthetic_reactions.csv

Articles are JSONL in the library's input format plus a ground-truth ``story`` key (which
``load_articles`` ignores); ``.gz`` names are gzip-compressed. Memory stays flat however
many articles are asked for: each article is written as it is generated (``--stories``
keeps only the ids of story articles). Files are written
under a temporary name and renamed at the end, so a killed run leaves no half-written file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import sys
import time
from collections import defaultdict

from recommender.evaluation.synthetic import generate_articles, generate_reactions


def _open(temporary: str, path: str):
    """Open ``temporary`` for writing, gzip-compressed when the final ``path`` ends in ``.gz``."""
    if path.endswith(".gz"):
        return gzip.open(temporary, "wt", encoding="utf-8")
    return open(temporary, "w", encoding="utf-8", newline="")


def _publish(temporary: str, path: str) -> None:
    os.replace(temporary, path)


def write_jsonl(path: str, articles, stories: dict[str, list[str]] | None = None) -> int:
    """Stream ``articles`` to ``path`` (JSONL, gzip for ``.gz``); return how many.

    With ``stories`` (a ``defaultdict(list)``), also collect the ids of each story there.
    """
    count = 0
    temporary = f"{path}.tmp-{os.getpid()}"
    with _open(temporary, path) as handle:
        for article in articles:
            handle.write(json.dumps(article, ensure_ascii=False) + "\n")
            count += 1
            if stories is not None and article["story"] is not None:
                stories[article["story"]].append(article["id"])
    _publish(temporary, path)
    return count


def write_reactions(path: str, reactions) -> int:
    """Stream reaction events to ``path`` as CSV ``article_id,reaction,at``; return how many."""
    temporary = f"{path}.tmp-{os.getpid()}"
    count = 0
    with _open(temporary, path) as handle:
        writer = csv.writer(handle)
        writer.writerow(["article_id", "reaction", "at"])
        for event in reactions:
            writer.writerow([event["article_id"], event["reaction"], event["at"]])
            count += 1
    _publish(temporary, path)
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic news corpus with known story clusters.")
    parser.add_argument("n", type=int, help="number of articles")
    parser.add_argument("out", help="articles file (.jsonl or .jsonl.gz)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=float, default=60)
    parser.add_argument("--median-words", type=float, default=400)
    parser.add_argument("--stories", help="also write the ground truth {story: [ids]} as JSON here")
    parser.add_argument("--reactions", help="also write reaction events (CSV, .gz allowed) here")
    args = parser.parse_args(argv)
    options = {"seed": args.seed, "days": args.days, "median_words": args.median_words}
    started = time.perf_counter()
    stories = defaultdict(list) if args.stories else None
    count = write_jsonl(args.out, generate_articles(args.n, **options), stories)
    print(f"{count:,} articles -> {args.out} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    if args.stories:
        temporary = f"{args.stories}.tmp-{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"stories": stories}, handle)
        _publish(temporary, args.stories)
    if args.reactions:  # the same articles again (deterministic), so they never all sit in memory
        count = write_reactions(args.reactions, generate_reactions(generate_articles(args.n, **options), seed=args.seed))
        print(f"{count:,} reactions -> {args.reactions}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
