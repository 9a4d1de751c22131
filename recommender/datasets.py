"""The bundled sample corpus: about 80 fictional news stories in story clusters, with reactions.

The files ship inside the package (``recommender/data``) so the demo, the tests and the
notebooks need no download. ``sample_stories.json`` is the ground truth: which articles
follow the same story, which are republications of one wire story, which stand alone.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

__all__ = ["SAMPLE_NOW", "sample_articles_path", "sample_reaction_counts_path", "sample_reactions_path", "sample_stories"]


SAMPLE_NOW = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)
"""The sample's site clock: just after its last reaction (2026-11-28 22:31 UTC). Pass it as
``now`` (``fit(..., now=SAMPLE_NOW)``, ``ranking(now=SAMPLE_NOW)``...) and the examples give
the same lists on any day, whatever the machine's clock says."""


def _data_file(name: str) -> Path:
    return Path(str(resources.files("recommender") / "data" / name))


def sample_articles_path() -> Path:
    """Path of the sample articles (JSONL)."""
    return _data_file("sample_articles.jsonl")


def sample_reactions_path() -> Path:
    """Path of the sample reaction events (CSV: ``article_id,reaction,at``)."""
    return _data_file("sample_reactions.csv")


def sample_reaction_counts_path() -> Path:
    """Path of the sample reaction counts (CSV: ``article_id,reaction,count``)."""
    return _data_file("sample_reaction_counts.csv")


def sample_stories() -> dict:
    """Ground truth of the sample corpus.

    Returns
    -------
    dict
        ``{"stories": {story_id: [article ids]}, "near_duplicates": [[ids]], "standalone": [ids]}``.
    """
    return json.loads(_data_file("sample_stories.json").read_text(encoding="utf-8"))
