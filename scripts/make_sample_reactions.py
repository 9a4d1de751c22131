#!/usr/bin/env python3
"""Generate the synthetic reader-reaction log bundled with the sample data set.

Reads ``recommender/data/sample_articles.jsonl`` (and ``sample_stories.json`` to know
which story each article belongs to) and writes two files next to them:

``sample_reactions.csv``
    One reaction event per row: ``article_id,reaction,at`` with ``at`` in ISO 8601 UTC
    (``+00:00``), never before the article's ``published_at`` and never after
    :data:`CUTOFF`. Rows are sorted by time.
``sample_reaction_counts.csv``
    The same events aggregated: ``article_id,reaction,count``, sorted by article id and
    reaction, one row per pair that occurs at least once.

The output is deterministic for a given seed (standard library only, one
``random.Random(seed)``). How the numbers are shaped:

* Popularity is set per story: a few stories (the cyclone, the cup run, the bank breach,
  the ministerial scandal) draw hundreds of reactions per article, most draw tens, and
  republished copies and some small features get 0-3. Each article's count is the story's
  median times a log-normal factor; the first report of each story (breaking news) gets
  a boost of :data:`BREAKING_BOOST`.
* Arrival times decay exponentially after publication: most reactions arrive within the
  first day or two, with a thinner tail over the following week. Events that would fall
  after :data:`CUTOFF` are dropped, so the newest articles have fewer reactions.
* The reaction mix depends on the story (sad for the disaster, angry for the breach and
  the scandal, veryGood for the cup run...), jittered a little per article.

Usage::

    python scripts/make_sample_reactions.py            # rewrite the bundled CSVs
    python scripts/make_sample_reactions.py --seed 7 --out-dir /tmp/reactions
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

REACTIONS = ("veryGood", "good", "sad", "angry", "surprised")
CUTOFF = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)
DEFAULT_SEED = 20261128
DATA_DIR = Path(__file__).resolve().parent.parent / "recommender" / "data"

# Popularity and mood per story: (median reactions per article,
# weights in REACTIONS order: veryGood, good, sad, angry, surprised).
STORY_PROFILES: dict[str, tuple[float, tuple[float, ...]]] = {
    "cyclone-imogen": (210, (1, 7, 68, 9, 15)),
    "dunmore-shield-cup-run": (140, (62, 24, 2, 2, 10)),
    "corvane-bank-breach": (150, (1, 3, 12, 68, 16)),
    "ravelle-contracts-scandal": (130, (2, 5, 5, 73, 15)),
    "halcyon-probe-launch": (55, (48, 28, 4, 1, 19)),
    "aldermere-film-festival": (32, (44, 34, 3, 6, 13)),
    "zerapitant-migraine-trial": (30, (28, 40, 6, 6, 20)),
    "varnesia-election": (28, (20, 24, 5, 21, 30)),
    "saltmere-port-strike": (26, (3, 13, 24, 40, 20)),
    "brennport-kestrel-tram": (22, (14, 34, 5, 30, 17)),
    "quarrix-lumenfold-merger": (9, (10, 30, 4, 14, 42)),
}
NEAR_DUPLICATE_ORIGINAL = (24, (22, 30, 2, 1, 45))
NEAR_DUPLICATE_COPY = (1.2, (22, 30, 2, 1, 45))

# Articles outside any story: a profile per section, overridden by tags.
SECTION_PROFILES: dict[str, tuple[float, tuple[float, ...]]] = {
    "lifestyle": (9, (38, 52, 1, 1, 8)),
    "local": (4, (30, 50, 4, 6, 10)),
    "entertainment": (7, (40, 42, 2, 2, 14)),
    "sports": (18, (55, 30, 1, 1, 13)),
    "science": (12, (35, 35, 3, 2, 25)),
    "health": (10, (15, 45, 8, 7, 25)),
    "business": (2, (25, 50, 3, 7, 15)),
    "tech": (6, (30, 45, 2, 8, 15)),
}
TAG_PROFILES: dict[str, tuple[float, tuple[float, ...]]] = {
    "obituary": (26, (12, 20, 63, 0, 5)),
    "weather": (2, (5, 20, 30, 25, 20)),
}
FALLBACK_PROFILE = (5, (25, 40, 10, 10, 15))

BREAKING_BOOST = 1.8   # popularity multiplier for the earliest article of each story
SPREAD = 0.55          # sigma of the log-normal popularity factor per article
MOOD_JITTER = 0.3      # sigma of the log-normal jitter on each reaction weight
FAST_MEAN_HOURS = 15   # mean delay of the main burst of reactions
SLOW_MEAN_HOURS = 90   # mean delay of the long tail
SLOW_SHARE = 0.15      # share of reactions that belong to the long tail


def load_articles(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def story_index(path: Path) -> tuple[dict[str, str], set[str], set[str]]:
    """Map article id -> story id, and return (original, copies) of the near duplicates."""
    if not path.exists():
        return {}, set(), set()
    truth = json.loads(path.read_text(encoding="utf-8"))
    story_of = {aid: story for story, members in truth.get("stories", {}).items() for aid in members}
    originals: set[str] = set()
    copies: set[str] = set()
    for group in truth.get("near_duplicates", []):
        if group:
            originals.add(group[0])  # groups are listed in publication order
            copies.update(group[1:])
    return story_of, originals, copies


def profile_for(article: dict, story_of: dict[str, str], originals: set[str], copies: set[str]):
    aid = article["id"]
    if aid in originals:
        return NEAR_DUPLICATE_ORIGINAL
    if aid in copies:
        return NEAR_DUPLICATE_COPY
    if story_of.get(aid) in STORY_PROFILES:
        return STORY_PROFILES[story_of[aid]]
    for tag in article.get("tags", []):
        if tag in TAG_PROFILES:
            return TAG_PROFILES[tag]
    return SECTION_PROFILES.get(article.get("section"), FALLBACK_PROFILE)


def delay(rng: random.Random) -> timedelta:
    mean = SLOW_MEAN_HOURS if rng.random() < SLOW_SHARE else FAST_MEAN_HOURS
    return timedelta(seconds=30 + rng.expovariate(1.0 / (mean * 3600.0)))


def first_reports(articles: list[dict], story_of: dict[str, str]) -> set[str]:
    """Ids of the earliest article of every story."""
    first: dict[str, dict] = {}
    for article in articles:
        story = story_of.get(article["id"])
        if story is None:
            continue
        if story not in first or parse_time(article) < parse_time(first[story]):
            first[story] = article
    return {article["id"] for article in first.values()}


def parse_time(article: dict) -> datetime:
    return datetime.fromisoformat(article["published_at"]).astimezone(timezone.utc)


def generate(articles: list[dict], story_of, originals, copies, seed: int,
             breaking: set[str] = frozenset()) -> list[tuple[str, str, datetime]]:
    rng = random.Random(seed)
    events: list[tuple[str, str, datetime]] = []
    for article in sorted(articles, key=lambda a: a["id"]):
        median, weights = profile_for(article, story_of, originals, copies)
        boost = BREAKING_BOOST if article["id"] in breaking else 1.0
        count = int(round(median * boost * rng.lognormvariate(0.0, SPREAD)))
        mood = [w * rng.lognormvariate(0.0, MOOD_JITTER) for w in weights]
        published = parse_time(article)
        for _ in range(count):
            at = (published + delay(rng)).replace(microsecond=0)
            reaction = rng.choices(REACTIONS, weights=mood)[0]
            if at <= CUTOFF:  # not yet arrived by the end of the sample window
                events.append((article["id"], reaction, at))
    events.sort(key=lambda event: (event[2], event[0], event[1]))
    return events


def write(events, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "sample_reactions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["article_id", "reaction", "at"])
        for aid, reaction, at in events:
            writer.writerow([aid, reaction, at.isoformat()])
    counts = Counter((aid, reaction) for aid, reaction, _ in events)
    with (out_dir / "sample_reaction_counts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["article_id", "reaction", "count"])
        for (aid, reaction), count in sorted(counts.items()):
            writer.writerow([aid, reaction, count])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--articles", type=Path, default=DATA_DIR / "sample_articles.jsonl")
    parser.add_argument("--stories", type=Path, default=DATA_DIR / "sample_stories.json")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    articles = load_articles(args.articles)
    story_of, originals, copies = story_index(args.stories)
    events = generate(articles, story_of, originals, copies, args.seed, first_reports(articles, story_of))
    write(events, args.out_dir)
    print(f"wrote {len(events)} reactions for {len({e[0] for e in events})} of {len(articles)} articles to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
