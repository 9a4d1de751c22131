"""Whole-archive IDF or per-language IDF? Related precision of a language that is a share of the archive.

A model holds one vocabulary and one IDF over all its articles, whatever their language. For a
language whose terms no other language uses, whole-archive IDF differs from an IDF computed over
that language's articles alone by one constant: every term of the language gets
``ln((1 + n_all) / (1 + n_language))`` more. This script measures what that constant does to
Related lists *within* the language, where the default search keeps them: it fits the library's
vectoriser on one labelled corpus (its IDF is then the per-language one), adds the constant for a
language that is 100 %, 50 %, 20 %, 5 % or 1 % of the archive, and scores TF-IDF cosine rankings
against the labels (precision at ``min(10, other articles with the query's label)``, the protocol
of ``benchmarks/bench_relevance.py``).

Usage (rebuild the corpora first with ``benchmarks/news_data.py``)::

    python benchmarks/bench_language_idf.py --data DIR [--synthetic 5000]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from recommender._vectorize import TextVectorizer
from recommender.evaluation.synthetic import generate_articles

SHARES = (1.0, 0.5, 0.2, 0.05, 0.01)


def precision(vectors: sp.csr_matrix, labels: np.ndarray) -> float:
    """Mean precision at min(10, relevant) of cosine rankings, over articles with a labelled partner."""
    scores = (vectors @ vectors.T).toarray()
    np.fill_diagonal(scores, -np.inf)
    values = []
    for row, label in enumerate(labels):
        relevant = int((labels == label).sum()) - 1
        if label is None or relevant == 0:
            continue
        k = min(10, relevant)
        top = np.argsort(-scores[row], kind="stable")[:k]
        values.append(float((labels[top] == label).mean()))
    return float(np.mean(values))


def with_share(vectors: sp.csr_matrix, idf: np.ndarray, share: float) -> sp.csr_matrix:
    """Rows re-weighted as if the corpus were ``share`` of an archive whose other terms it never uses."""
    n = vectors.shape[0]
    offset = np.log((1 + n / share) / (1 + n))
    scale = (idf.astype(np.float64) + offset) / idf.astype(np.float64)
    return normalize(sp.csr_matrix(vectors.astype(np.float64) @ sp.diags(scale)), norm="l2")


def corpora(data: Path | None, synthetic: int) -> dict[str, tuple[list[dict], str]]:
    found = {}
    if data is not None:
        for name in ("newswcl50", "ecbplus"):
            path = data / f"{name}.jsonl"
            if path.exists():
                found[name] = ([json.loads(line) for line in path.open(encoding="utf-8")], "event")
    if synthetic:
        found[f"synthetic {synthetic:,}"] = (list(generate_articles(synthetic, seed=3)), "story")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder written by benchmarks/news_data.py")
    parser.add_argument("--synthetic", type=int, default=5_000, help="synthetic articles (0: none)")
    args = parser.parse_args()
    print("| corpus | articles | " + " | ".join(f"share {share:.0%}" for share in SHARES) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in SHARES) + " |")
    for name, (rows, key) in corpora(args.data, args.synthetic).items():
        labels = np.asarray([row.get(key) if row.get(key) not in (None, -1) else None for row in rows], dtype=object)
        vectorizer = TextVectorizer()
        vectors = vectorizer.fit_transform([row["title"] for row in rows], [row["body"] for row in rows])
        cells = [precision(with_share(vectors, vectorizer.idf_, share), labels) for share in SHARES]
        print(f"| {name} | {len(rows):,} | " + " | ".join(f"{cell:.3f}" for cell in cells) + " |")


if __name__ == "__main__":
    main()
