"""Rebuild the MIND-small dev samples used by ``bench_mind.py``, in MIND's own TSV format.

    python benchmarks/mind_data.py SOURCE OUT_DIR

``SOURCE`` is a checkout (or a bare git directory) of github.com/Ruixinhua/LLM4Rec (RecPrompt,
Liu et al. 2023), which stores impressions of the MIND-small *dev* set with the news text
inlined. MIND is licensed by Microsoft for non-commercial research; nothing of it is stored
in this repository, and the files written here are for local evaluation only.

* ``behaviors_A.tsv``: ``notebooks/sampled_1000_order.csv``, 1,000 random dev impressions
  (~29 candidates each). Titles only: ids come from a title -> id catalogue of the other files;
  a title not in it gets a pseudo id ``T<n>`` with no category.
* ``behaviors_B.tsv``: ``notebooks/test_group/variant5/sample400by_ratio.csv``, 400
  impressions of 10 candidates (the RecPrompt paper's test set).
* ``behaviors_tune.tsv``: the impressions of ``notebooks/test_group/variant{1..4}`` that are in
  neither A nor B (groups filtered by cold/non-cold reader and topic match).
* ``news.tsv``: every history and candidate article of those files (category, subcategory,
  title, abstract).

The source has no impression times (every row gets :data:`PLACEHOLDER_TIME`, so a replay
sees no earlier clicks) and lists histories in catalogue order, not click order.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
from pathlib import Path

csv.field_size_limit(10 ** 9)

PLACEHOLDER_TIME = "11/15/2019 12:00:00 PM"
"""The impression time written for every row (the source has none)."""

_GROUPS = {
    1: ["cold_user-long_candidate-match_topic", "cold_user-long_candidate-not_match_topic",
        "cold_user-short_candidate-match_topic", "cold_user-short_candidate-not_match_topic",
        "non_cold_user-long_candidate-match_topic", "non_cold_user-long_candidate-not_match_topic",
        "non_cold_user-short_candidate-match_topic", "non_cold_user-short_candidate-not_match_topic"],
    2: ["cold_user-match_topic", "cold_user-not_match_topic", "non_cold_user-match_topic",
        "non_cold_user-not_match_topic"],
    3: ["cold_user-match_topic-fix_candidate", "cold_user-not_match_topic-fix_candidate",
        "non_cold_user-match_topic-fix_candidate", "non_cold_user-not_match_topic-fix_candidate"],
    4: ["cold_user-match_topic-fix_candidate", "cold_user-not_match_topic-fix_candidate",
        "non_cold_user-match_topic-fix_candidate", "non_cold_user-not_match_topic-fix_candidate"],
}
TUNING_FILES = [f"notebooks/test_group/variant{v}/{group}" for v, groups in _GROUPS.items() for group in groups]
SAMPLE_A = "notebooks/sampled_1000_order"
SAMPLE_B = "notebooks/test_group/variant5/sample400by_ratio"
FIELDS = ("category", "subvert", "title", "abstract")

Impression = tuple[str, list[str], list[str], list[int]]  # id, history, candidates, labels


def read_csv(source: Path, name: str) -> list[dict[str, str]]:
    """Rows of ``name``.csv from a checkout or, failing that, from HEAD of a git directory."""
    path = source / f"{name}.csv"
    if path.exists():
        text = path.read_text(encoding="utf-8")
    else:
        text = subprocess.run(["git", "--git-dir", str(source), "show", f"HEAD:{name}.csv"],
                              check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(text.splitlines(keepends=True)))


def labels_of(label: str, n: int) -> list[int]:
    """Click labels from RecPrompt's ``"C1, C4"`` (1-based candidate numbers) form."""
    clicked = {int(item.strip()[1:]) for item in label.split(",") if item.strip()}
    return [int(i + 1 in clicked) for i in range(n)]


def rich_impressions(rows: list[dict[str, str]], news: dict[str, list[str]]) -> list[Impression]:
    """Impressions of files with per-article columns; their articles go into ``news``."""
    impressions = []
    for row in rows:
        for side in ("history", "candidate"):
            ids = row[f"{side}_news_id"].split("\n") if row[f"{side}_news_id"] else []
            columns = [row[f"{side}_{field}"].split("\n") for field in FIELDS]
            for k, news_id in enumerate(ids):
                category, subcategory, title, abstract = (
                    column[k].strip() if len(column) == len(ids) else "" for column in columns)
                if news_id not in news or (abstract and not news[news_id][3]):
                    news[news_id] = [category, subcategory, title, abstract]
        history = row["history_news_id"].split("\n") if row["history_news_id"] else []
        candidates = row["candidate_news_id"].split("\n")
        impressions.append((row["impression_id"], history, candidates, labels_of(row["label"], len(candidates))))
    return impressions


def titled_impressions(rows: list[dict[str, str]], news: dict[str, list[str]]) -> list[Impression]:
    """Impressions of files listing ``"N: title"`` lines; ids found by title (pseudo ids when unknown)."""
    by_title: dict[str, str] = {}
    for news_id in sorted(news, key=lambda i: int(i[1:])):
        by_title.setdefault(news[news_id][2], news_id)
    n_known = len(by_title)

    def news_id(line: str) -> str:
        title = line.split(": ", 1)[1].strip()
        if title not in by_title:
            by_title[title] = f"T{len(by_title) - n_known + 1}"
            news[by_title[title]] = ["", "", title, ""]
        return by_title[title]

    impressions = []
    for row in rows:
        history = [news_id(line) for line in row["history"].split("\n") if ": " in line]
        candidates = [news_id(line) for line in row["candidate"].split("\n")]
        impressions.append((row["impression_id"], history, candidates, labels_of(row["label"], len(candidates))))
    return impressions


def write_behaviors(path: Path, impressions: list[Impression]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for impression_id, history, candidates, labels in impressions:
            shown = " ".join(f"{c}-{label}" for c, label in zip(candidates, labels))
            out.write(f"{impression_id}\tU{impression_id}\t{PLACEHOLDER_TIME}\t{' '.join(history)}\t{shown}\n")


def write_news(path: Path, news: dict[str, list[str]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for news_id, fields in news.items():
            clean = [field.replace("\t", " ").replace("\n", " ") for field in fields]
            out.write("\t".join([news_id, *clean, "", "[]", "[]"]) + "\n")


def build(source: Path, out: Path) -> dict[str, int]:
    """Write the four files; return how many news and impressions each holds."""
    out.mkdir(parents=True, exist_ok=True)
    news: dict[str, list[str]] = {}
    pooled = [imp for name in TUNING_FILES for imp in rich_impressions(read_csv(source, name), news)]
    sample_b = rich_impressions(read_csv(source, SAMPLE_B), news)
    sample_a = titled_impressions(read_csv(source, SAMPLE_A), news)
    held = {imp[0] for imp in sample_a + sample_b}
    tune: dict[str, Impression] = {}
    for imp in pooled:
        if imp[0] not in held:
            tune.setdefault(imp[0], imp)
    write_news(out / "news.tsv", news)
    for name, impressions in (("A", sample_a), ("B", sample_b), ("tune", list(tune.values()))):
        write_behaviors(out / f"behaviors_{name}.tsv", impressions)
    return {"news": len(news), "A": len(sample_a), "B": len(sample_b), "tune": len(tune)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="checkout or bare git directory of Ruixinhua/LLM4Rec")
    parser.add_argument("out", type=Path, help="directory for news.tsv and behaviors_{A,B,tune}.tsv")
    args = parser.parse_args()
    counts = build(args.source, args.out)
    print(", ".join(f"{name} {n:,}" for name, n in counts.items()), f"-> {args.out}")


if __name__ == "__main__":
    main()
