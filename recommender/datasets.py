"""The bundled sample corpus: about 80 fictional news stories in story clusters, with reactions.

The files ship inside the package (``recommender/data``) so the demo, the tests and the
notebooks need no download. ``sample_stories.json`` is the ground truth: which articles
follow the same story, which are republications of one wire story, which stand alone.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

__all__ = ["sample_articles_path", "sample_reaction_counts_path", "sample_reactions_path", "sample_stories"]


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
