"""Recommendation on MIND impressions: the library against simple baselines, step by step.

    python benchmarks/mind_data.py PATH/TO/LLM4Rec data/mind     # rebuild the samples once
    python benchmarks/bench_mind.py data/mind [--bootstrap 2000] [--seeds 5] [--fit tune]

For each sample (``tune``, ``A``, ``B``) runs :func:`recommender.evaluation.mind.evaluate_mind`
(time-ordered replay, ties at random) for the baselines and for these scorers:

* ``old blend``: ``blend="similarity"`` (cosines below ``min_similarity`` count 0, no section
  profile; popularity from earlier clicks only, so none on these samples);
* ``profile cosine``: ``blend="reader"`` with the history profile signal alone;
* ``+ closest read``, ``+ section share``, ``+ subsection``: adding those signals at their
  default weights, the section share as is (``section_scale="linear"``);
* ``default``: every default (the section share on a log scale).

Prints AUC, MRR, nDCG@5, nDCG@10 and the paired bootstrap interval of the AUC difference to
the best baseline. Ties are broken at random, so the figures move a little with the seed:
``--seeds N`` repeats the default's interval with seeds 0 .. N-1 (``--scorers`` picks rows).
``--fit SAMPLE`` also prints logistic-regression weights of the four reader
signals fitted on that sample (per-impression centred), the way the defaults were chosen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from recommender import Recommender
from recommender._options import BlendWeights
from recommender.evaluation.mind import BASELINES, METRICS, evaluate_mind, read_mind_behaviors, read_mind_news

SAMPLES = ("tune", "A", "B")
READER_SIGNALS = ("history", "history_max", "section", "subsection")
OFF = {"article": 0.0, "history_max": 0.0, "section": 0.0, "subsection": 0.0}
DEFAULT = BlendWeights()
SCORERS = {
    "old blend": {"blend": "similarity"},
    "profile cosine": {"blend_weights": OFF},
    "+ closest read": {"blend_weights": OFF | {"history_max": DEFAULT.history_max}},
    "+ section share": {"blend_weights": OFF | {"history_max": DEFAULT.history_max, "section": DEFAULT.section},
                        "section_scale": "linear"},
    "+ subsection": {"section_scale": "linear"},
    "default": {},
}


def _row(name: str, figures: dict, extra: str = "") -> str:
    return f"  {name:<18}" + "".join(f"{figures[m]:>9.3f}" for m in METRICS) + extra


def fit_weights(data: Path, sample: str) -> dict[str, float]:
    """Logistic-regression weights of the reader signals on ``sample`` (features centred per impression)."""
    from sklearn.linear_model import LogisticRegression

    model = Recommender().fit(read_mind_news(data / "news.tsv"))
    columns, labels = [], []
    for impression in read_mind_behaviors(data / f"behaviors_{sample}.tsv"):
        features = np.column_stack([model._relevance(impression.candidates, impression.history,
                                                     now=None, signal=signal) for signal in READER_SIGNALS])
        columns.append(features - features.mean(axis=0))
        labels.append(impression.labels)
    fitted = LogisticRegression(max_iter=2000, fit_intercept=False).fit(np.vstack(columns), np.concatenate(labels))
    return dict(zip(READER_SIGNALS, fitted.coef_.ravel().round(3).tolist()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="directory written by benchmarks/mind_data.py")
    parser.add_argument("--bootstrap", type=int, default=2000, help="paired bootstrap resamples")
    parser.add_argument("--samples", nargs="+", default=list(SAMPLES), choices=SAMPLES)
    parser.add_argument("--scorers", nargs="+", default=list(SCORERS), choices=list(SCORERS))
    parser.add_argument("--seeds", type=int, default=1, help="tie-breaking seeds for the default's interval")
    parser.add_argument("--fit", choices=SAMPLES, action="append", default=[],
                        help="print reader-signal weights fitted on this sample (repeatable)")
    args = parser.parse_args()
    news = args.data / "news.tsv"
    for sample in args.samples:
        behaviors = args.data / f"behaviors_{sample}.tsv"
        results = {name: evaluate_mind(news, behaviors, bootstrap=args.bootstrap, **SCORERS[name])
                   for name in args.scorers}
        first = next(iter(results.values()))
        print(f"\nsample {sample}: {first['n_impressions']:,} impressions, {first['n_news']:,} news, "
              f"{first['n_times']} distinct times")
        print(f"  {'':<18}" + "".join(f"{m:>9}" for m in METRICS) + "   AUC - best baseline [95 % CI]")
        for name in BASELINES:
            print(_row(name, first["baselines"][name]))
        for name, result in results.items():
            b = result["bootstrap"]
            print(_row(name, result, f"   {b['auc_difference']:+.3f} [{b['low']:+.3f}, {b['high']:+.3f}] "
                                     f"vs {b['baseline']}"))
        for seed in range(1, args.seeds):
            result = evaluate_mind(news, behaviors, bootstrap=args.bootstrap, random_state=seed)
            b = result["bootstrap"]
            print(_row(f"default, seed {seed}", result, f"   {b['auc_difference']:+.3f} [{b['low']:+.3f}, "
                                                         f"{b['high']:+.3f}] vs {b['baseline']}"))
    for sample in args.fit:
        print(f"\nreader-signal weights fitted on {sample}: {fit_weights(args.data, sample)}")


if __name__ == "__main__":
    main()
