"""The public surface: exported names, the exception tree, and one-way imports between modules."""

from __future__ import annotations

import ast
from pathlib import Path

import recommender
from recommender import exceptions

PUBLIC = {
    "Article", "ArticleLimits", "ArtifactError", "CorruptArtifactError", "DuplicateArticleError", "EditorialRules",
    "EligibilityRule", "EmbargoedArticleError", "Hit",
    "IncompatibleArtifactError", "InvalidInputError", "InvalidOptionError", "ModelHandle", "NotFittedError", "Page", "PageSizes", "Reaction",
    "ReactionReport", "Recommender", "RecommenderError", "StemmerUnavailableError", "UnknownArticleError",
    "load_articles", "load_reactions",
}


def test_all_is_sorted_and_pinned():
    assert recommender.__all__ == sorted(recommender.__all__)
    assert set(recommender.__all__) == PUBLIC
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
    assert issubclass(exceptions.EmbargoedArticleError, exceptions.UnknownArticleError)


# Data flows one way, along the pipeline: a module may import only modules of its own or a lower layer.
LAYERS = {
    "foundation": {"exceptions", "_checks", "_time", "_options", "_segments", "_sparse_kernels", "_rules", "_languages", "_stop_words", "_compiled", "_small_sets", "_kept"},
    "input": {"_markup", "_readers", "_text", "_articles", "_reactions"},
    "vectors and state": {"_vectorize", "_index", "_profiles", "_profile_search", "_catalog", "_popularity",
                          "_reaction_policy", "_hits", "_distinct", "_explain", "_state", "_artifact_checks",
                          "_erase", "_aliases", "_visibility", "_time_locality", "_block_cosines", "_topm_kernel",
                          "_pairs_kernel", "_cross_kernel"},
    "lists": {"_related", "_ranking", "_candidates", "_recommend", "_reader", "_fit"},
    "model and storage": {"_persist", "_store", "_queries", "_model", "datasets"},
    "serving": {"_entries", "_updates", "_handle", "_serve", "_workers"},
    "jobs and edges": {"_precompute", "purge", "evaluation", "cli", "__init__", "__main__"},
}
PURE = {"_compiled", "_small_sets", "_kept", "_sparse_kernels", "_rules", "_time_locality", "_languages", "_stop_words", "_visibility", "_entries", "_segments", "_profile_search", "_markup", "_text", "_checks", "_time", "_options", "_vectorize", "_catalog", "_index", "_profiles",
        "_popularity", "_reaction_policy", "_hits", "_distinct", "_explain", "_state", "_related", "_ranking",
        "_candidates", "_recommend", "_reader", "_persist", "_artifact_checks", "_erase", "_aliases", "_block_cosines",
        "_topm_kernel", "_pairs_kernel", "_cross_kernel"}
IO_MODULES = {"os", "io", "pathlib", "json", "sys", "logging.config", "tqdm", "tqdm.auto", "sqlite3", "shutil"}


def _unit(package: Path, path: Path) -> str:
    """The layer unit a file belongs to: its top-level module or subpackage."""
    return path.relative_to(package).parts[0].removesuffix(".py")


def _imports(path: Path, package: Path) -> set[str]:
    """Units of the package a file imports (relative or absolute), and outside modules by name."""
    found = set()
    depth = len(path.relative_to(package).parts) - 1  # 0 for a top-level module
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.level - 1 < depth or (node.level - 1 == depth and depth and not node.module):
                continue  # inside its own subpackage
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            name = node.module
            found.add(name.split(".")[1] if name.startswith("recommender.") else name)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_imports_point_one_way_and_pure_modules_do_no_io():
    layer_of = {name: depth for depth, names in enumerate(LAYERS.values()) for name in names}
    package = Path(recommender.__file__).parent
    files = [p for p in package.rglob("*.py")]
    units = {_unit(package, p) for p in files}
    assert units == set(layer_of), f"place modules in LAYERS: {units ^ set(layer_of)}"
    for path in files:
        unit = _unit(package, path)
        imported = _imports(path, package)
        for other in imported & set(layer_of):
            if other not in ("__init__", unit):
                assert layer_of[other] <= layer_of[unit], f"{path.name} ({unit}) imports {other} from a higher layer"
        if unit not in ("evaluation", "cli"):
            assert "evaluation" not in imported, f"serving code {path.name} imports the offline evaluation"
        if unit in PURE:
            assert not imported & IO_MODULES, (path, imported & IO_MODULES)
            text = path.read_text()
            assert "open(" not in text and "print(" not in text, path


def test_one_owner_decides_how_related_lists_are_searched():
    """Only the Related search resolves the strategy; every caller goes through it."""
    package = Path(recommender.__file__).parent
    owners = {p.relative_to(package).as_posix() for p in package.rglob("*.py")
              if "pruned_lists(" in p.read_text() or "full_lists(" in p.read_text()}
    assert owners <= {"_related/search.py", "_related/full.py", "_related/pruned.py"}, owners


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
