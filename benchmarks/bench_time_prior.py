"""The time-proximity prior under different calendars: when ``time_scale_days="auto"`` turns it on, and what it does.

Rebuild the corpora first (``benchmarks/news_data.py``, with ``--gva``), then::

    python benchmarks/bench_time_prior.py --data artifacts/news

Each setting is real text on a calendar: its own dates (GVA's real report dates, Reuters'
1987 newswire), the same dates compressed into 4 weeks (thousands of same-kind events close
together), dates that carry no signal (drawn at random over 4 weeks or a year, whatever the
event), or an archive's calendar on undated corpora (each event's reports within ``±spread``
days of a day drawn over 4 weeks, the distractors spread over the same weeks). For each it
prints the measured time locality (:attr:`Recommender.time_locality_`: share of close-neighbour
links within 2 days, share of random pairs, excess, z), whether ``"auto"`` turned the prior
on, and the precision (``bench_relevance.py``'s protocol) of the text-only score
(``time_scale_days=None``), the prior always on at 2 days, and the default ``"auto"``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_relevance as bench  # noqa: E402
from recommender import Recommender  # noqa: E402

START = datetime(2020, 3, 2, 12, tzinfo=timezone.utc)
SYSTEMS = {"text only (None)": None, "always on (2.0)": 2.0, "default ('auto')": "auto"}


def _on_days(articles: list[dict], days: np.ndarray) -> list[dict]:
    return [dict(a, published_at=(START + timedelta(days=float(d))).isoformat()) for a, d in zip(articles, days)]


def _days(articles: list[dict]) -> np.ndarray:
    return np.array([datetime.fromisoformat(a["published_at"]).timestamp() / 86_400 for a in articles])


def _event_calendar(articles: list[dict], spread: float, rng: np.random.Generator) -> np.ndarray:
    events = sorted({a["event"] for a in articles if a.get("event")})
    day = dict(zip(events, rng.uniform(0, 28, len(events)).tolist()))
    return np.array([day[a["event"]] + rng.uniform(-spread, spread) if a.get("event") else rng.uniform(0, 28)
                     for a in articles])


def calendars(data: Path) -> dict[str, tuple[list[dict], str, bool]]:
    """Setting name -> (articles on their calendar, label field, fixed k=10)."""
    cases = bench.settings(data, False, np.random.default_rng(0))
    rng = np.random.default_rng(7)
    gva, _, _ = cases["GVA event"]
    real = _days(gva)
    mixed, _, _ = cases["MIX event"]
    ecb, _, _ = cases["ECB+ event"]
    reuters, _, _ = cases["Reuters topic P@10"]
    return {
        "GVA, real dates": (gva, "event", False),
        "GVA, dates compressed into 4 weeks": (_on_days(gva, (real - real.min()) % 28), "event", False),
        "GVA, dates at random over 4 weeks": (_on_days(gva, rng.uniform(0, 28, len(gva))), "event", False),
        "MIX, events ±1 day, distractors the same 4 weeks": (_on_days(mixed, _event_calendar(mixed, 1.0, rng)),
                                                             "event", False),
        "MIX, events ±3 days, distractors the same 4 weeks": (_on_days(mixed, _event_calendar(mixed, 3.0, rng)),
                                                              "event", False),
        "ECB+, dates at random over 4 weeks": (_on_days(ecb, rng.uniform(0, 28, len(ecb))), "event", False),
        "ECB+, dates at random over a year": (_on_days(ecb, rng.uniform(0, 365, len(ecb))), "event", False),
        "Reuters topics, real dates (P@10)": (reuters, "topic", True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="artifacts/news", help="folder written by benchmarks/news_data.py")
    args = parser.parse_args()
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    print("| setting | links within 2 days | random pairs within 2 days | excess | z | `auto` | "
          + " | ".join(SYSTEMS) + " |")
    print("| --- |" + " ---: |" * (5 + len(SYSTEMS)))
    for name, (articles, field, fixed_k) in calendars(Path(args.data)).items():
        plain, _ = bench._score_matrix(articles, None)
        labels, queries = bench.labelled_queries("Reuters" if fixed_k else name, articles, field, rng)
        ids = np.array([a["id"] for a in articles], dtype=object)
        copies = plain >= bench.COPY_COSINE
        model = Recommender(time_scale_days=None).fit(articles)  # one fit; the prior is a query-time option
        locality = model.time_locality_
        figures = []
        for option in SYSTEMS.values():
            model.set_params(time_scale_days=option)
            scores = model.similarity([a["id"] for a in articles])
            figures.append(bench._precision(scores, labels, queries, copies, fixed_k, ids))
        model.set_params(time_scale_days="auto")
        print(f"| {name} | {locality.linked:.3f} | {locality.random:.3f} | {locality.excess:.3f} | {locality.z:.1f} | "
              f"{'on' if model.time_scale_days_ is not None else 'off'} | "
              + " | ".join(f"{value:.3f}" for value in figures) + " |", flush=True)
        print(f"# {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
