"""Shared fixtures: the bundled sample corpus, a model fitted on it, and a tiny hand-made corpus."""

from __future__ import annotations

import pytest

from recommender import Recommender, load_articles
from recommender.datasets import sample_articles_path, sample_stories


@pytest.fixture(scope="session")
def sample_articles():
    return load_articles(sample_articles_path())


@pytest.fixture(scope="session")
def stories():
    return sample_stories()


@pytest.fixture(scope="session")
def sample_model(sample_articles):
    return Recommender().fit(sample_articles)


def make_article(article_id: str, title: str, body: str, day: int = 1, section: str = "news") -> dict:
    return {
        "id": article_id,
        "title": title,
        "body": body,
        "published_at": f"2026-10-{day:02d}T09:00:00+00:00",
        "section": section,
    }


@pytest.fixture()
def tiny_articles():
    """Two small stories, one republished copy and one stand-alone piece."""
    return [
        make_article("port-1", "Calden dock workers strike", "Dock workers at the Calden port walked out, halting container shipping at the harbour.", 1, "business"),
        make_article("port-2", "Calden port strike enters second week", "The Calden dock strike entered a second week as container ships queued outside the harbour.", 8, "business"),
        make_article("port-2-copy", "Calden port strike enters week two", "The Calden dock strike entered a second week as container ships queued outside the harbour. Talks resume.", 8, "world"),
        make_article("port-3", "Calden strike ends with pay deal", "Dock workers in Calden accepted a pay deal, ending the strike; shipping resumes at the harbour.", 15, "business"),
        make_article("cup-1", "Rovers reach cup final", "Rovers beat United in the semi-final and reach the cup final at the national stadium.", 3, "sports"),
        make_article("cup-2", "Rovers win the cup final", "Rovers won the cup final at the national stadium, beating City after extra time.", 20, "sports"),
        make_article("soup", "Autumn pumpkin soup", "Roast the pumpkin with garlic, then blend it with stock and a little cream.", 5, "food"),
    ]


def as_records_format(version) -> None:
    """Rewrite a saved model version in place into the layout of format versions 1 and 2:
    article metadata as one JSON record per article (``articles.json``) and a ``removed.npy``
    mask, instead of the catalogue arrays of format version 3. For tests of old artifacts."""
    import json

    import numpy as np

    from recommender import _store as store
    from recommender._catalog import Catalog

    manifest = json.loads((version / "manifest.json").read_text())
    names = [name for name in manifest["files"] if name.startswith("catalog_") or name in ("sections.json",
                                                                                          "facets.json")]
    arrays = {name[:-4]: np.load(version / name) for name in names if name.endswith(".npy")}
    arrays["removed"] = np.load(version / "removed.npy")
    sections = json.loads((version / "sections.json").read_text())
    catalog = Catalog.from_arrays(arrays, sections, facets=json.loads((version / "facets.json").read_text()))
    records = [catalog.record(row) for row in range(len(catalog))]
    for name in names:
        (version / name).unlink()
        manifest["files"].pop(name)
    (version / "articles.json").write_text(json.dumps(records))
    manifest["files"]["articles.json"] = {"sha256": store._sha256(version / "articles.json"),
                                          "bytes": (version / "articles.json").stat().st_size}
    manifest["format_version"] = 2
    (version / "manifest.json").write_text(json.dumps(manifest))


def reseal(version) -> None:
    """Rewrite every checksum and size in a version's manifest to match its files, as someone
    who crafts a model would: the content checks, not the checksums, must then refuse it."""
    import json

    from recommender import _store as store

    manifest = json.loads((version / "manifest.json").read_text())
    for name in manifest["files"]:
        if (version / name).exists():
            manifest["files"][name] = {"sha256": store._sha256(version / name), "bytes": (version / name).stat().st_size}
    (version / "manifest.json").write_text(json.dumps(manifest))
