"""The issue-6 table: each text method -> Lee agreement, label precision, related() latency.

    python benchmarks/relevance_table.py                     # about 5 minutes on 2 cores
    python benchmarks/relevance_table.py --latency-articles 100000 --queries 300

Every row is ``Recommender(**options)`` through the public API, so the figures are what the
library serves:

* **Lee** r / rho: :func:`recommender.evaluation.lee.evaluate_lee` (needs the ``eval`` extra).
* **sample** P@5, nDCG@10: Related lists against the sample corpus's stories.
* **synthetic** P@5, R@10: 3,000 generated articles (seed 3) and their stories.
* **latency**: median ``related()`` and ``related_to_text()`` time over the same random
  articles of a synthetic corpus (``--latency-articles``), each method fitted on it in
  turn, as a ratio to the first row measured in the same run (the machine is noisy:
  compare ratios, not milliseconds across runs). Fit time is reported too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from recommender import Recommender
from recommender.datasets import sample_articles_path, sample_stories
from recommender.evaluation.protocols import evaluate_labels, story_labels
from recommender.evaluation.synthetic import generate_articles

METHODS = [
    ("TF-IDF cosine (defaults before issue 6)", {"stem": False, "proper_noun_weight": 1, "neighbours": 0}),
    ("+ proper nouns x2", {"stem": False, "neighbours": 0}),
    ("+ Snowball stemming (SP)", {"neighbours": 0}),
    ("SP + anchored profiles m=25", {"neighbours": 25}),
    ("**SP + anchored profiles m=50 (default)**", {}),
    ("SP + anchored profiles m=100", {"neighbours": 100}),
]


def _synthetic_labels(articles: list[dict]) -> dict[str, str | None]:
    return {a["id"]: a.get("story") for a in articles}


def _median_ms(call, arguments) -> float:
    times = []
    for argument in arguments:
        start = time.perf_counter()
        call(*argument)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    try:
        from recommender.evaluation.lee import evaluate_lee
    except ImportError:  # pragma: no cover
        evaluate_lee = None
    synthetic = list(generate_articles(3_000, seed=3))
    labels = _synthetic_labels(synthetic)
    corpus = list(generate_articles(args.latency_articles, seed=0))
    rng = np.random.default_rng(0)
    picks = rng.choice(len(corpus), size=min(args.queries, len(corpus)), replace=False)
    rows = []
    for name, options in METHODS:
        row: dict = {"method": name, "options": options}
        if evaluate_lee is not None:
            lee = evaluate_lee(**options)
            row["lee_pearson"], row["lee_spearman"] = lee["pearson"], lee["spearman"]
        sample = evaluate_labels(sample_articles_path(), story_labels(sample_stories()), k=10, **options)
        row["sample_p5"], row["sample_ndcg10"] = sample["precision_by_k"][4], sample["ndcg"]
        generated = evaluate_labels(synthetic, labels, k=10, **options)
        row["synthetic_p5"], row["synthetic_r10"] = generated["precision_by_k"][4], generated["recall"]
        start = time.perf_counter()
        model = Recommender(**options).fit(corpus)
        row["fit_s"] = time.perf_counter() - start
        ids = [corpus[i]["id"] for i in picks]
        texts = [(corpus[i]["title"], corpus[i]["body"]) for i in picks]
        _median_ms(model.related, [(i,) for i in ids[:20]])  # warm up
        row["related_ms"] = _median_ms(model.related, [(i,) for i in ids])
        row["related_to_text_ms"] = _median_ms(model.related_to_text, texts)
        rows.append(row)
        print(f"done: {name}", flush=True)
    base = rows[0]
    print(f"\nlatency on {args.latency_articles:,} synthetic articles, median of {len(picks)} queries\n")
    print("| method | Lee r | Lee ρ | sample P@5 | sample nDCG@10 | synthetic P@5 | synthetic R@10 "
          "| related() ms | ratio | related_to_text() ms | ratio | fit s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        lee = (f"{row['lee_pearson']:.3f} | {row['lee_spearman']:.3f}" if "lee_pearson" in row else "– | –")
        print(f"| {row['method']} | {lee} | {row['sample_p5']:.3f} | {row['sample_ndcg10']:.3f} "
              f"| {row['synthetic_p5']:.3f} | {row['synthetic_r10']:.3f} | {row['related_ms']:.2f} "
              f"| {row['related_ms'] / base['related_ms']:.2f}× | {row['related_to_text_ms']:.2f} "
              f"| {row['related_to_text_ms'] / base['related_to_text_ms']:.2f}× | {row['fit_s']:.1f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
