"""The real-news rebuild script (``benchmarks/news_data.py``): the GVA reader takes only article records.

The GVA documents are pickles; the reader must load the two classes they hold and refuse anything
else, so a crafted file in a snapshot cannot run code on the machine that rebuilds the corpora.
"""

from __future__ import annotations

import builtins
import datetime
import importlib.util
import io
import pickle
import sys
import types
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "news_data.py"


@pytest.fixture(scope="module")
def news_data():
    spec = importlib.util.spec_from_file_location("news_data_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gva_pickle(**fields) -> bytes:
    """A pickle shaped like a GVA document: a ``classes.NewsItem`` with attributes."""
    classes = types.ModuleType("classes")

    class NewsItem:
        pass

    NewsItem.__module__, NewsItem.__qualname__ = "classes", "NewsItem"
    classes.NewsItem = NewsItem
    sys.modules["classes"] = classes
    try:
        item = NewsItem()
        item.__dict__.update(fields)
        return pickle.dumps(item, protocol=3)
    finally:
        del sys.modules["classes"]


def test_gva_reader_loads_a_news_item(news_data):
    raw = _gva_pickle(title="Man shot on Main Street - WKRN News 2", content="body " * 30,
                      dct=datetime.date(2014, 1, 28), id="abc", uri="http://example.org/a")
    item = news_data._NewsItemReader(io.BytesIO(raw)).load()
    assert item.title.startswith("Man shot") and item.dct == datetime.date(2014, 1, 28)
    assert news_data._strip_site(item.title) == "Man shot on Main Street"


class _Crafted:
    def __reduce__(self):
        return builtins.print, ("this must never run",)


def test_gva_reader_refuses_any_other_class(news_data, capsys):
    raw = pickle.dumps(_Crafted(), protocol=3)
    with pytest.raises(pickle.UnpicklingError, match=r"builtins\.print"):
        news_data._NewsItemReader(io.BytesIO(raw)).load()
    assert "must never run" not in capsys.readouterr().out


def test_site_names_are_stripped_only_when_short(news_data):
    assert news_data._strip_site("Two hurt in shooting | Fox 8") == "Two hurt in shooting"
    long_tail = "Police say - the suspect fled the scene on foot after firing several shots at the house"
    assert news_data._strip_site(long_tail) == long_tail
    assert news_data._strip_site("No outlet here") == "No outlet here"
