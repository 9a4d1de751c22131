"""Related-list quality on real French news: one day of headlines grouped into stories by their source.

The corpus is third-party text and is never committed: this script rebuilds it from a local git
snapshot of the public repository ``ia-labo/French-News-Clustering`` (file
``api/client/test_one_day.csv``: 5,064 French headlines of 10 January 2020 with publication time,
the id of the story cluster the source put each in, and the section). Rows repeating a headline of
the same cluster are dropped; each headline is an article whose title and body are the headline.

Protocol (as ``benchmarks/bench_relevance.py``): each system ranks every other article by the
score its Related list is ordered by; republished copies (scikit-learn TF-IDF cosine >= 0.8 to
the query) leave the ranking and the relevant set for every system alike; precision at
``min(10, other articles of the query's cluster)``, averaged over the headlines whose cluster has
another one.

Usage::

    python benchmarks/bench_french.py --repo PATH_TO_SNAPSHOT [--out headlines.jsonl]

``PATH_TO_SNAPSHOT``: a clone (or bare git directory) of the repository; ``--out`` also writes the
rebuilt articles as JSONL (for a scratch folder, never for the repository).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from recommender import Recommender

SOURCE = "api/client/test_one_day.csv"
COPY_COSINE = 0.8
SYSTEMS = {
    "scikit-learn TF-IDF cosine (no stop words)": None,
    "Recommender(neighbours=0), English analysis (before languages)":
        ({"neighbours": 0, "multilingual": False, "stop_words": "english"}, None),
    "Recommender(), English analysis (before languages)": ({"multilingual": False, "stop_words": "english"}, None),
    "Recommender(neighbours=0), French analysis": ({"neighbours": 0}, "fr"),
    "Recommender(), French analysis": ({}, "fr"),
}


def rebuild(repo: Path) -> list[dict]:
    """The headlines as article records with a ``story`` label."""
    gitdir = repo / ".git" if (repo / ".git").exists() else repo
    text = subprocess.run(["git", "--git-dir", str(gitdir), "show", f"HEAD:{SOURCE}"], check=True,
                          capture_output=True).stdout.decode("utf-8")
    seen, articles = set(), []
    for title, when, cluster, section, _ in csv.reader(io.StringIO(text)):
        title = " ".join(title.split())
        if not title or (title, cluster) in seen:
            continue
        seen.add((title, cluster))
        articles.append({"id": f"fr-{len(articles):05d}", "title": title, "body": title,
                         "published_at": when.replace(" ", "T") + "+01:00", "section": section or None,
                         "story": cluster, "language": None})
    return articles


def precision(scores: np.ndarray, labels: np.ndarray, copies: np.ndarray) -> float:
    values = []
    for row in range(len(labels)):
        keep = ~copies[row]
        keep[row] = False
        relevant = int((labels[keep] == labels[row]).sum())
        if relevant == 0:
            continue
        k = min(10, relevant)
        candidates = np.flatnonzero(keep)
        top = candidates[np.argsort(-scores[row, candidates], kind="stable")[:k]]
        values.append(float((labels[top] == labels[row]).mean()))
    return float(np.mean(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    articles = rebuild(args.repo)
    if args.out:
        args.out.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8")
    labels = np.asarray([a["story"] for a in articles], dtype=object)
    texts = [a["title"] for a in articles]
    plain = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    plain_scores = (plain @ plain.T).toarray()
    copies = plain_scores >= COPY_COSINE
    queries = sum(1 for row in range(len(labels)) if ((labels == labels[row]) & ~copies[row]).sum() > 1)
    print(f"{len(articles):,} headlines, {len(set(labels)):,} clusters, {queries:,} queries with a partner\n")
    print("| system | precision |")
    print("| --- | ---: |")
    for name, setting in SYSTEMS.items():
        if setting is None:
            scores = plain_scores
        else:
            options, language = setting
            model = Recommender(**options).fit([dict(a, language=language) for a in articles])
            scores = model.similarity(model.article_ids)
        print(f"| {name} | {precision(scores, labels, copies):.3f} |")


if __name__ == "__main__":
    main()
