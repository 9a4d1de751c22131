"""The public surface: exported names, the exception tree, and one-way imports between modules."""

from __future__ import annotations

import ast
from pathlib import Path

import recommender
from recommender import exceptions

PUBLIC = {
    "Article", "ArticleLimits", "ArtifactError", "CorruptArtifactError", "DuplicateArticleError", "Hit",
    "IncompatibleArtifactError", "InvalidInputError", "InvalidOptionError", "NotFittedError", "Recommender",
    "RecommenderError", "UnknownArticleError", "load_articles",
}


def test_all_is_sorted_and_pinned():
    assert recommender.__all__ == sorted(recommender.__all__)
    assert PUBLIC <= set(recommender.__all__)
    for name in recommender.__all__:
        assert getattr(recommender, name) is not None


def test_exception_tree():
    base = exceptions.RecommenderError
    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), base)
    assert issubclass(exceptions.UnknownArticleError, KeyError)
    assert issubclass(exceptions.InvalidOptionError, ValueError)
    assert issubclass(exceptions.InvalidInputError, ValueError)
    assert issubclass(exceptions.DuplicateArticleError, exceptions.InvalidInputError)
    assert issubclass(exceptions.CorruptArtifactError, exceptions.ArtifactError)


# Data flows one way: a module may import only modules of a lower layer (or its own).
LAYERS = [
    {"exceptions"},
    {"markup", "text", "readers", "checks"},
    {"articles", "reactions"},
    {"vectorize", "catalog", "index", "profiles", "popularity"},
    {"lists", "ingest", "evaluate", "synthetic"},
    {"blend", "options"},
    {"store", "persist"},
    {"batch", "updates"},
    {"model", "datasets", "lee", "mind", "protocols"},
    {"precompute"},
    {"cli", "__init__", "__main__"},
]
PURE = {"markup", "text", "checks", "options", "vectorize", "catalog", "index", "profiles", "popularity", "lists", "ingest", "blend", "evaluate", "batch", "updates"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add((node.module or "").split(".")[0] or "__init__")
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_imports_point_one_way_and_pure_modules_do_no_io():
    layer_of = {name: depth for depth, names in enumerate(LAYERS) for name in names}
    package = Path(recommender.__file__).parent
    modules = {p.stem for p in package.glob("*.py")}
    assert modules <= set(layer_of), f"place new modules in LAYERS: {modules - set(layer_of)}"
    for path in package.glob("*.py"):
        imported = _imports(path)
        for other in imported & set(layer_of):
            if other != "__init__":
                assert layer_of[other] <= layer_of[path.stem], f"{path.stem} imports {other} from a higher layer"
        if path.stem in PURE:
            assert not imported & {"os", "io", "pathlib", "json", "sys", "logging.config", "tqdm"}, path.stem
            assert "open(" not in path.read_text() and "print(" not in path.read_text(), path.stem


def test_serving_a_saved_model_does_not_import_scikit_learn(sample_model, tmp_path):
    """scikit-learn costs every process ~80 MB and ~0.7 s, the term dict ~100 MB at a million
    terms; looking up lists of indexed articles (related, page, ranking, recommend) needs
    neither. Vectorising text does."""
    import subprocess
    import sys

    sample_model.save(tmp_path / "model")
    script = """
import sys
from recommender import Recommender
rec = Recommender.load(sys.argv[1], mmap=True)
first, second = rec.article_ids[:2]
rec.related(first)
rec.page(first, history=[second])
rec.recommend(article_id=first, history=[second])
rec.ranking()
assert "sklearn" not in sys.modules, "serving imported scikit-learn"
assert "_vocabulary" not in vars(rec.vectorizer_), "serving built the term dict"
rec.related_to_text("Dock workers strike at the port", "The dock workers walked out.")
assert "sklearn" in sys.modules and "_vocabulary" in vars(rec.vectorizer_)
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "model")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
