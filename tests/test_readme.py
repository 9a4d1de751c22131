"""The README's library example runs as written, on any day (the sample's clock is fixed)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block_after(marker: str) -> str:
    text = README.read_text("utf-8")
    start = text.index(marker)
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


def test_the_library_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # it saves to models/news
    namespace: dict = {}
    exec(compile(_python_block_after("so this runs the same on any day"), str(README), "exec"), namespace)
    rec = namespace["rec"]
    assert rec.version and (tmp_path / "models" / "news").is_dir()
    assert [hit.article_id for hit in rec.related("a017-web", k=3)] == [hit.article_id for hit in rec.related("a017", k=3)]
    assert "a003" not in rec.article_ids
