"""Related-list quality on real multi-outlet news: same-event precision of every system, plus Lee.

Rebuild the corpora first (``benchmarks/news_data.py``, from public repository snapshots), then::

    python benchmarks/bench_relevance.py --data artifacts/news [--quick] [--json out.json]

Protocol, the same for every system:

* each setting is fitted on its own articles (vocabulary, IDF, neighbour profiles);
* for a query, every other article is ranked by the system's score (the score that orders the
  Related list, :meth:`Recommender.similarity`, with the list's relevance gate off);
  republished copies (scikit-learn TF-IDF cosine >= 0.8 to the query) are taken out of the
  ranking and of the relevant set for every system alike;
* precision at ``min(10, other articles with the query's label)``, averaged over queries;
  topic settings use P@10;
* ``MIX``: NewsWCL50 + WikiRef220 + ECB+ with 4,000 Reuters articles as never-relevant
  distractors (and each corpus a distractor for the others), every article on one day (the
  corpora carry no dates; the distractors' 1987 dates would hand a date prior an unfair gain);
* ``MIX event, dated``: the same articles on an archive's calendar (synthetic dates on real
  text): each event's reports within a day of a day drawn over 4 weeks, the distractors spread
  over the same 4 weeks;
* ``ECB+ event, dates shuffled``: ECB+ with dates drawn over 4 weeks whatever the event, dates
  that carry no signal (``time_scale_days="auto"`` must leave the prior off there; the
  ``prior on`` columns say whether it did);
* ``GVA event`` (when ``gva.jsonl`` is in the data folder): news reports of gun-violence
  incidents, every incident an event of the same kind, with real dates; incidents reported once
  stay in as distractors. It was added after the default was chosen: a held-out check;
* Lee: Pearson correlation of the same score with the human judgments (standard protocol);
* story tier: on the library's own ``related(k=10)`` lists over ``MIX``, the share of hits
  marked ``"story"`` that are the same event (precision) and the share of same-event hits
  that are marked (recall).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from recommender import Recommender
from recommender.evaluation.lee import evaluate_lee, lee_articles, lee_correlation, load_lee

SYSTEMS = {
    "scikit-learn TF-IDF cosine": None,
    "Recommender(neighbours=0): library TF-IDF cosine": {"neighbours": 0},
    "Recommender(core_weight=0, time_scale_days=None): anchored score": {"core_weight": 0.0, "time_scale_days": None},
    "step: core_weight=0.25, time_scale_days=None": {"core_weight": 0.25, "time_scale_days": None},
    "step: core_weight=1.0, time_scale_days=None": {"core_weight": 1.0, "time_scale_days": None},
    "step: core_neighbours=10, time_scale_days=None": {"core_neighbours": 10, "time_scale_days": None},
    "Recommender(time_scale_days=None): anchored + core, text only": {"time_scale_days": None},
    "step: time_scale_days=2.0 (always on)": {"time_scale_days": 2.0},
    "Recommender(): default (time_scale_days='auto')": {},
}
COPY_COSINE = 0.8
AUTO_SHOWN = ("ECB+ event, dates shuffled", "MIX event, dated", "GVA event")
"""Settings whose row also says whether ``time_scale_days="auto"`` turned the prior on."""
DISTRACTORS = 4_000
REUTERS_QUERIES = 2_000


def _load(data: Path, name: str, prefix: str) -> list[dict]:
    rows = [json.loads(line) for line in (data / f"{name}.jsonl").open(encoding="utf-8")]
    for row in rows:
        for key in ("event", "topic"):
            row[key] = f"{prefix}:{row[key]}" if row.get(key) else None
    return rows


def settings(data: Path, quick: bool, rng: np.random.Generator) -> dict[str, tuple[list[dict], str, bool]]:
    """Setting name -> (articles, label field, fixed k=10)."""
    wcl, wikiref = _load(data, "newswcl50", "wcl"), _load(data, "wikiref220", "wr")
    ecb, reuters = _load(data, "ecbplus", "ecb"), _load(data, "reuters", "reu")
    order = rng.permutation(len(reuters))
    distractors = [dict(reuters[j], event=None, topic=None) for j in order[:1_000 if quick else DISTRACTORS]]
    topical = [reuters[j] for j in order[:2_000 if quick else len(reuters)]]
    held_out = {"GVA event": (_load(data, "gva", "gva"), "event", False)} if (data / "gva.jsonl").exists() else {}
    mixed = wcl + wikiref + ecb + distractors
    calendar_rng = np.random.default_rng(CALENDAR_SEED)  # its own draws: the other settings stay as they were
    return {
        "NewsWCL50 event": (wcl, "event", False),
        "WikiRef220 topic": (wikiref, "event", False),
        "ECB+ event": (ecb, "event", False),
        "ECB+ topic": (ecb, "topic", True),
        "ECB+ event, dates shuffled": (_calendar(ecb, "shuffled", calendar_rng), "event", False),
        "MIX event": (_calendar(mixed, "one day", calendar_rng), "event", False),
        "MIX event, dated": (_calendar(mixed, "events", calendar_rng), "event", False),
        "Reuters topic P@10": (topical, "topic", True),
        **held_out,
    }


CALENDAR_DAYS = 28
CALENDAR_SEED = 5
"""The weeks over which :func:`_calendar` spreads articles."""


def _calendar(articles: list[dict], kind: str, rng: np.random.Generator) -> list[dict]:
    """The articles with new publication dates: ``"one day"`` (every article the same day: dates
    say nothing), ``"shuffled"`` (uniform over :data:`CALENDAR_DAYS` days, whatever the event:
    dates that carry no signal), or ``"events"`` (each event's articles within a day of a day
    drawn in those weeks, the unlabelled distractors uniform over the same weeks: an archive's
    calendar, the distractors from the same weeks)."""
    start = datetime(2020, 3, 2, 12, tzinfo=timezone.utc)
    events = sorted({a["event"] for a in articles if a.get("event")})
    event_day = dict(zip(events, rng.uniform(0, CALENDAR_DAYS, len(events)).tolist()))
    dated = []
    for article in articles:
        if kind == "one day":
            day = 0.0
        elif kind == "events" and article.get("event"):
            day = event_day[article["event"]] + rng.uniform(-1, 1)
        else:
            day = rng.uniform(0, CALENDAR_DAYS)
        dated.append(dict(article, published_at=(start + timedelta(days=day)).isoformat()))
    return dated


def _score_matrix(articles: list[dict], options: dict | None) -> tuple[np.ndarray, Recommender | None]:
    if options is None:
        vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
            [a["title"] + "\n" + a["body"] for a in articles])
        return (vectors @ vectors.T).toarray().astype(np.float32), None
    model = Recommender(**options).fit(articles)
    return model.similarity([a["id"] for a in articles]), model


def _lee_sklearn() -> float:
    """Lee Pearson of scikit-learn's TF-IDF cosine, fitted like the library (background + documents)."""
    data = load_lee()
    articles = lee_articles(data)
    scores, _ = _score_matrix(articles, None)
    rows = [i for i, a in enumerate(articles) if a["id"].startswith("lee-")]
    return lee_correlation(scores[np.ix_(rows, rows)], data)["pearson"]


def labelled_queries(name: str, articles: list[dict], field: str,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each article's label (unlabelled ones get a label of their own) and the query rows: the
    labelled articles that share their label (a random sample of them on Reuters)."""
    labels = np.array([a.get(field) or f"none:{i}" for i, a in enumerate(articles)], dtype=object)
    labelled = np.array([a.get(field) is not None for a in articles])
    counts: dict[str, int] = {}
    for label in labels[labelled]:
        counts[label] = counts.get(label, 0) + 1
    queries = np.flatnonzero(labelled & np.array([counts.get(label, 0) > 1 for label in labels]))
    if name.startswith("Reuters"):
        queries = np.sort(rng.choice(queries, size=min(REUTERS_QUERIES, len(queries)), replace=False))
    return labels, queries


def _precision(scores: np.ndarray, labels: np.ndarray, queries: np.ndarray, copies: np.ndarray,
               fixed_k: bool, order_key: np.ndarray) -> float:
    values = []
    for i in queries:
        excluded = copies[i].copy()
        excluded[i] = True
        relevant = (labels == labels[i]) & ~excluded
        n_relevant = int(relevant.sum())
        if n_relevant == 0:
            continue
        k = 10 if fixed_k else min(10, n_relevant)
        row = np.where(excluded, -np.inf, scores[i].astype(np.float64))
        kth = np.partition(row, len(row) - k)[len(row) - k]  # only the rows that can make the top k are sorted
        candidates = np.flatnonzero(row >= kth)
        top = candidates[np.lexsort((order_key[candidates], -row[candidates]))][:k]  # ties by id
        values.append(relevant[top].mean())
    return float(np.mean(values))


def _story_tier(model: Recommender, articles: list[dict], labels: np.ndarray, queries: np.ndarray,
                copies: np.ndarray) -> tuple[float, float]:
    row_of = {a["id"]: i for i, a in enumerate(articles)}
    marked = marked_same = same_total = 0
    for i in queries:
        for hit in model.related(articles[i]["id"], k=10):
            j = row_of[hit.article_id]
            if copies[i, j]:
                continue
            same = labels[j] == labels[i]
            marked += hit.tier == "story"
            marked_same += same and hit.tier == "story"
            same_total += same
    return marked_same / max(marked, 1), marked_same / max(same_total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="artifacts/news", help="folder written by benchmarks/news_data.py")
    parser.add_argument("--quick", action="store_true", help="fewer distractors and Reuters articles")
    parser.add_argument("--json", help="also write the table as JSON here")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    cases = settings(Path(args.data), args.quick, rng)
    prepared = {}
    for name, (articles, field, fixed_k) in cases.items():
        sklearn_scores, _ = _score_matrix(articles, None)
        labels, queries = labelled_queries(name, articles, field, rng)
        ids = np.array([a["id"] for a in articles], dtype=object)
        prepared[name] = (articles, labels, queries, sklearn_scores >= COPY_COSINE, fixed_k, ids, sklearn_scores)
    table: dict[str, dict[str, float]] = {}
    for system, options in SYSTEMS.items():
        row: dict[str, float] = {}
        for name, (articles, labels, queries, copies, fixed_k, ids, sklearn_scores) in prepared.items():
            scores, model = (sklearn_scores, None) if options is None else _score_matrix(articles, options)
            row[name] = _precision(scores, labels, queries, copies, fixed_k, ids)
            if model is not None and name in AUTO_SHOWN:
                row[f"{name}: prior on"] = float(model.time_scale_days_ is not None)
            if name == "MIX event":
                for prefix in ("wcl", "ecb"):
                    part = np.array([i for i in queries if str(labels[i]).startswith(prefix + ":")])
                    row[f"MIX/{prefix}"] = _precision(scores, labels, part, copies, fixed_k, ids)
                if model is not None:
                    row["tier P"], row["tier R"] = _story_tier(model, articles, labels, queries, copies)
        row["Lee r"] = _lee_sklearn() if options is None else evaluate_lee(**options)["pearson"]
        table[system] = row
        print(f"# {system}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    columns: list[str] = []
    for row in table.values():
        columns += [column for column in row if column not in columns]
    print("| system | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for system, row in table.items():
        print(f"| {system} | " + " | ".join(f"{row[c]:.3f}" if c in row and row[c] == row[c] else "–"
                                           for c in columns) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
