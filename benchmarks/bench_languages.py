"""What languages cost: the same-language filter on related(), and the English analysis path against an older release.

1. **Filter.** One model on ``--articles`` synthetic articles, a fifth of them marked Spanish;
   ``related()`` on the same queries with ``cross_language=False`` (the filter) and ``True`` (no
   filter), switched by ``set_params`` so both run on one fitted state. CPU time per call,
   median of ``--repeats`` rounds, the two settings alternating.
2. **English path** (with ``--baseline DIR``, a folder holding an older ``recommender`` package,
   e.g. a checkout from before languages). The package is copied under another name and imported
   beside this one, so both vectorisers run in one process, alternating: ``fit_transform`` on
   ``--fit-articles`` synthetic English articles and ``transform`` of single texts (the
   ``related_to_text`` path). Ratio of CPU times, this release over the older one.

Usage::

    python benchmarks/bench_languages.py --articles 20000 [--baseline /path/to/old/checkout]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from recommender import Recommender
from recommender._vectorize import TextVectorizer
from recommender.evaluation.synthetic import generate_articles

QUERIES = 300
SINGLE_TEXTS = 300


def filter_cost(n: int, repeats: int) -> tuple[float, float]:
    articles = list(generate_articles(n, seed=2))
    for position, article in enumerate(articles):
        article["language"] = "es" if position % 5 == 0 else "en"
    model = Recommender().fit(articles)
    ids = model.article_ids
    queries = [ids[i] for i in np.random.default_rng(0).choice(len(ids), min(QUERIES, len(ids)), replace=False)]
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for crossing in (False, True):
            model.set_params(cross_language=crossing)
            start = time.process_time()
            for query in queries:
                model.related(query)
            times[crossing].append((time.process_time() - start) / len(queries) * 1000)
    return float(np.median(times[False])), float(np.median(times[True]))


def english_path(baseline: Path, n: int, repeats: int) -> dict[str, tuple[float, float]]:
    folder = Path(tempfile.mkdtemp())
    shutil.copytree(baseline / "recommender", folder / "recommender_baseline")  # relative imports only
    sys.path.insert(0, str(folder))
    from recommender_baseline._vectorize import TextVectorizer as Older

    articles = list(generate_articles(n, seed=1))
    titles, bodies = [a["title"] for a in articles], [a["body"] for a in articles]
    runs: dict[str, dict[str, list[float]]] = {"fit_transform (s)": {"old": [], "new": []},
                                               "transform one text (ms)": {"old": [], "new": []}}
    for repeat in range(repeats):
        order = (("old", Older), ("new", TextVectorizer)) if repeat % 2 == 0 else (("new", TextVectorizer), ("old", Older))
        for name, cls in order:
            vectorizer = cls()
            start = time.process_time()
            vectorizer.fit_transform(titles, bodies)
            runs["fit_transform (s)"][name].append(time.process_time() - start)
            start = time.process_time()
            for i in range(SINGLE_TEXTS):
                vectorizer.transform([titles[i]], [bodies[i]])
            runs["transform one text (ms)"][name].append((time.process_time() - start) / SINGLE_TEXTS * 1000)
    shutil.rmtree(folder)
    return {key: (float(np.median(value["old"])), float(np.median(value["new"]))) for key, value in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--fit-articles", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="folder holding an older recommender package")
    args = parser.parse_args()
    same, crossing = filter_cost(args.articles, args.repeats)
    print(f"related() at {args.articles:,} articles (20 % Spanish): same language {same:.3f} ms, "
          f"cross_language {crossing:.3f} ms, ratio {same / crossing:.3f}")
    if args.baseline is not None:
        for key, (old, new) in english_path(args.baseline, args.fit_articles, args.repeats).items():
            print(f"English {key} at {args.fit_articles:,} articles: older {old:.4f}, this {new:.4f}, "
                  f"ratio {new / old:.3f}")


if __name__ == "__main__":
    main()
