"""Model-file fuzzer: crafted models with valid checksums are refused or served safely.

A small model (sample corpus, reactions, a pending reaction, a non-ASCII title) is saved
once. Each trial copies its version directory, applies one random mutation — an array's
dtype, shape or values (NaN, inf, out-of-range or unsorted indices, offsets), a manifest
field (counts, options, vectorizer parameters) or a JSON document (terms, sections,
growth, pending reactions) — rewrites the checksums so they match, and loads it with
``verify=True``. Then:

* a mutation that gives the model a value no saved model can hold must be refused at load
  with :class:`~recommender.exceptions.CorruptArtifactError`;
* any model that loads must answer ``related``, ``ranking``, ``recommend``, ``page`` and
  ``related_batch`` for known ids with finite scores, raising nothing outside
  :class:`~recommender.exceptions.RecommenderError`.

A second test loads index mutations with ``verify=False`` in a child process: the process
must not crash (the structural checks run without checksums too). The seed is fixed;
``MODEL_FUZZ_TRIALS`` raises the number of trials for a longer hunt.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from recommender import Recommender, RecommenderError, load_articles, load_reactions
from recommender import _store as store
from recommender.datasets import sample_articles_path, sample_reactions_path
from recommender.exceptions import CorruptArtifactError, IncompatibleArtifactError

from .conftest import reseal

SEED = 20261130
TRIALS = int(os.environ.get("MODEL_FUZZ_TRIALS", "240"))
NOW = datetime(2026, 11, 28, 23, tzinfo=timezone.utc)
FLOAT_ARRAYS = ("idf", "vectors_data", "postings_data", "profiles_data", "profile_postings_data", "profile_kth",
                "profile_norms", "profile_outside", "popularity_mass", "popularity_last")
INDEX_ARRAYS = tuple(f"{prefix}_{part}" for prefix in ("vectors", "postings", "profiles", "profile_postings")
                     for part in ("indices", "indptr"))
CATALOG_ARRAYS = ("catalog_by_published", "catalog_id_rows", "catalog_sections", "catalog_published",
                  "catalog_id_hashes", "catalog_ids_offsets", "catalog_titles_offsets", "catalog_details_offsets",
                  "catalog_titles_blob", "removed")
FOREIGN_DTYPES = ("float16", "int8", "uint16", ">f4", ">i4", ">i8", "U12", "complex64", "bool")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    articles = load_articles(sample_articles_path())
    extra = {"id": "zurich", "title": "Zürich café strike — naïve résumé", "body": "Café workers in Zürich strike "
             "over pay; the naïve plan of the owners fails.", "published_at": "2026-11-20T10:00:00+00:00",
             "section": "world"}
    rec = Recommender().fit([*articles, extra])
    reactions = [r for r in load_reactions(sample_reactions_path()) if r.at is None or r.at <= NOW]
    rec.record_reactions(reactions, now=NOW)
    rec.record_reactions([{"article_id": "not-yet", "reaction": "good", "count": 3}], now=NOW)
    root = tmp_path_factory.mktemp("fuzz") / "model"
    rec.save(root)
    return store.resolve(root)


class Mutation:
    """One change to a model; ``must_refuse`` when the result is no model a save could write."""

    def __init__(self, what: str, apply, must_refuse: bool) -> None:
        self.what, self.apply, self.must_refuse = what, apply, must_refuse

    def __repr__(self) -> str:
        return self.what


def _array_mutation(rng: random.Random, version: Path) -> Mutation:
    name = rng.choice(FLOAT_ARRAYS + INDEX_ARRAYS + CATALOG_ARRAYS)
    path = version / f"{name}.npy"
    array = np.load(path)
    kind = rng.choice(["dtype", "shape", "value", "value", "value", "empty"])
    refuse = True
    if kind == "dtype":
        dtype = rng.choice(FOREIGN_DTYPES)
        new = array.astype(str).astype(dtype) if dtype == "U12" else array.astype(dtype)
        what = f"{name} as {dtype}"
        refuse = np.dtype(dtype) != array.dtype
    elif kind == "shape":
        choice = rng.choice(["2d", "drop", "append"])
        new = {"2d": lambda: array.reshape(-1, 1) if array.ndim == 1 else array.reshape(-1),
               "drop": lambda: array[:-1], "append": lambda: np.concatenate([array, array[-1:]])}[choice]()
        what = f"{name} shape {choice}"
    elif kind == "empty":
        new = array[:0]
        what = f"{name} empty"
        refuse = array.size > 0
    else:
        new = array.copy()
        flat = new.reshape(-1)
        if flat.size == 0:
            return _array_mutation(rng, version)
        at = rng.randrange(flat.size)
        if new.dtype.kind == "f":
            value = rng.choice([math.nan, math.inf, -math.inf, -1.0, 1e30, 0.0, 2.0, 1e-30])
            refuse = math.isnan(value) or value == math.inf or (value < 0 and name != "popularity_last") \
                or (value == 1e30 and name != "popularity_mass" and name != "popularity_last")
            if name == "popularity_last" and value == -math.inf:
                refuse = bool(new[at] != -math.inf) and bool(np.load(version / "popularity_mass.npy")[at].any())
        else:
            info = np.iinfo(new.dtype)
            value = rng.choice([-1, int(array.max()) + 1 if array.size else 1, info.max, info.min, 0,
                                int(flat[rng.randrange(flat.size)])])
            value = max(info.min, min(info.max, value))
            refuse = name in INDEX_ARRAYS and value not in (int(flat[at]),) and (value < 0 or value > array.max())
        what = f"{name}[{at}] = {value!r} (was {flat[at]!r})"
        flat[at] = value
        if name.endswith("_indices") and rng.random() < 0.3 and flat.size > 2:  # or unsorted rows
            flat[:] = flat[::-1]
            what = f"{name} reversed"
            refuse = True
    return Mutation(what, lambda: np.save(path, new, allow_pickle=False), refuse)


def _manifest_mutation(rng: random.Random, version: Path) -> Mutation:
    manifest = json.loads((version / "manifest.json").read_text())
    field, value, refuse = rng.choice([
        ("counts.articles", rng.choice([10, -5, 0, 10**12, "x", 1.5, None]), True),
        ("counts.terms", rng.choice([1, -1, 10**9]), True),
        ("counts.nnz", rng.choice([0, -1, 5]), True),
        ("counts.pending_reactions", rng.choice([0, 7, -1]), True),
        ("counts.neighbours", rng.choice([0, 1, 10, -1, "x"]), None),
        ("config.ranking_max_age", rng.choice([math.inf, math.nan, 1e300, -1, "x", 0]), True),
        ("config.half_life_hours", rng.choice([0, -1, math.nan, 1e300, "x"]), True),
        ("config.neighbours", rng.choice([0, 3, -1, 10**9]), None),
        ("config.duplicate_threshold", rng.choice([math.nan, 2.0, -1.0]), True),
        ("config.strategy", rng.choice(["x", 3, None]), True),
        ("config.reaction_weights", rng.choice([{"good": math.nan}, {"good": -1}, {"good": math.inf}, "x"]), True),
        ("vectorizer.dtype", rng.choice(["float16", "U12", "object", "x", "int8"]), True),
        ("vectorizer.title_weight", rng.choice([math.nan, -1, "x"]), True),
        ("format_version", rng.choice([0, 99, "3", None]), True),
    ])
    section, key = field.split(".") if "." in field else (None, field)
    target = manifest if section is None else manifest.setdefault(section, {})
    what = f"manifest {field} = {value!r}"

    def apply():
        target[key] = value
        (version / "manifest.json").write_text(json.dumps(manifest))
    return Mutation(what, apply, bool(refuse))


DOCUMENT_CHANGES = [
    ("terms", lambda d: d.__setitem__(3, 17), True),
    ("terms", lambda d: d.__setitem__(3, d[4]), True),
    ("terms", lambda d: d.pop(), True),
    ("terms", lambda d: d.__setitem__(3, None), True),
    ("display_terms", lambda d: d.__setitem__(0, 5), True),
    ("display_terms", lambda d: d.pop(), True),
    ("sections", lambda d: d.__setitem__(0, d[1]), True),
    ("sections", lambda d: d.__setitem__(0, 7), True),
    ("sections", lambda d: d.pop(), True),
    ("growth", lambda d: d.__setitem__("fitted", "x"), True),
    ("growth", lambda d: d.__setitem__("added", -3), True),
    ("growth", lambda d: d.__setitem__("other", 1), True),
    ("pending_reactions", lambda d: d[0].__setitem__(2, math.nan), True),
    ("pending_reactions", lambda d: d[0].__setitem__(2, -4), True),
    ("pending_reactions", lambda d: d[0].__setitem__(2, 10**30), True),
    ("pending_reactions", lambda d: d[0].__setitem__(3, "yesterday"), True),
    ("pending_reactions", lambda d: d[0].__setitem__(0, ["x"]), True),
    ("pending_reactions", lambda d: d.append(["a", "b"]), True),
]


def _document_mutation(rng: random.Random, version: Path) -> Mutation:
    number = rng.randrange(len(DOCUMENT_CHANGES))
    name, change, refuse = DOCUMENT_CHANGES[number]
    path = version / f"{name}.json"
    document = json.loads(path.read_text())

    def apply():
        change(document)
        path.write_text(json.dumps(document))
    return Mutation(f"document {name}: change {number} of DOCUMENT_CHANGES", apply, refuse)


def _mutations(version: Path, count: int) -> list[tuple[int, str, float]]:
    rng = random.Random(SEED)
    plans = []
    for trial in range(count):
        kind = rng.choices(["array", "manifest", "document"], weights=[6, 2, 2])[0]
        plans.append((trial, kind, rng.random()))
    return plans


def _build(version: Path, kind: str, seed: float) -> Mutation:
    rng = random.Random(seed)
    return {"array": _array_mutation, "manifest": _manifest_mutation, "document": _document_mutation}[kind](rng, version)


def _serve(rec: Recommender) -> int:
    """Ask every kind of query of a loaded model; return the number of hits checked."""
    checked = 0
    ids = rec.article_ids[:4] + rec.article_ids[-2:]
    for article_id in ids:
        hits = [*rec.related(article_id, k=5), *rec.recommend(article_id, now=NOW),
                *rec.recommend(article_id, history=ids[:2], now=NOW)]
        page = rec.page(article_id, now=NOW)
        hits += [*page.related, *page.ranking, *page.recommendation]
        assert all(math.isfinite(hit.score) for hit in hits), hits
        checked += len(hits)
    hits = [*rec.ranking(k=8, now=NOW), *rec.ranking(k=8, now=NOW, mode="trending")]
    assert all(math.isfinite(hit.score) for hit in hits), hits
    _, scores = rec.related_batch(ids, k=5)
    assert np.isfinite(scores[~np.isnan(scores)]).all() if scores.dtype.kind == "f" else True
    return checked + len(hits)


def test_crafted_models_are_refused_or_served_safely(pristine, tmp_path):
    plans = _mutations(pristine, TRIALS)
    refused = loaded = 0
    missed = []
    for trial, kind, seed in plans:
        version = tmp_path / f"trial-{trial}"
        shutil.copytree(pristine, version)
        mutation = _build(version, kind, seed)
        mutation.apply()
        reseal(version)
        try:
            rec = Recommender.load(version, verify=True)
        except (CorruptArtifactError, IncompatibleArtifactError):
            refused += 1
        except Exception as error:  # noqa: BLE001  the point of the test: nothing else may escape
            pytest.fail(f"{mutation}: load raised {type(error).__name__}: {error}")
        else:
            loaded += 1
            if mutation.must_refuse:
                missed.append(mutation)
            try:
                _serve(rec)
            except RecommenderError:
                pass
            except Exception as error:  # noqa: BLE001
                pytest.fail(f"{mutation}: a query raised {type(error).__name__}: {error}")
        shutil.rmtree(version)
    assert not missed, f"loaded though no saved model holds such values: {missed}"
    assert refused + loaded == TRIALS >= 200 and refused > TRIALS // 2


CHILD = r"""
import sys, json
from datetime import datetime, timezone
from recommender import Recommender, RecommenderError
NOW = datetime(2026, 11, 28, 23, tzinfo=timezone.utc)
outcomes = []
for path in sys.argv[1:]:
    try:
        rec = Recommender.load(path, verify=False)
        for article_id in rec.article_ids[:5]:
            rec.related(article_id, k=5); rec.page(article_id, now=NOW)
        rec.related_batch(rec.article_ids[:20], k=5)
        outcomes.append("served")
    except RecommenderError:
        outcomes.append("refused")
print(json.dumps(outcomes))
"""


def test_verify_false_cannot_be_crashed_by_index_arrays(pristine, tmp_path):
    """Out-of-range, negative or narrow indices and postings, loaded without checksums:
    refused or served, never a crashed process."""
    paths = []
    for number, (name, change) in enumerate([
        ("vectors_indices", lambda a: a.__setitem__(0, 10**6)),
        ("vectors_indices", lambda a: a.__setitem__(3, -7)),
        ("postings_indices", lambda a: a.__setitem__(0, 10**6)),
        ("postings_indices", lambda a: a.__setitem__(5, -1)),
        ("profiles_indices", lambda a: a.__setitem__(0, 10**6)),
        ("profile_postings_indices", lambda a: a.__setitem__(1, -2)),
        ("vectors_indptr", lambda a: a.__setitem__(3, 10**7)),
        ("postings_indptr", lambda a: a.__setitem__(-1, 3)),
        ("vectors_indices", lambda a: None),  # replaced by int8 below
        ("catalog_id_rows", lambda a: a.__setitem__(0, 10**9)),
        ("catalog_by_published", lambda a: a.__setitem__(0, -10**9)),
        ("catalog_ids_offsets", lambda a: a.__setitem__(-1, 10**9)),
    ]):
        version = tmp_path / f"v{number}"
        shutil.copytree(pristine, version)
        array = np.load(version / f"{name}.npy")
        change(array)
        if number == 8:
            array = array.astype(np.int8)
        np.save(version / f"{name}.npy", array, allow_pickle=False)
        reseal(version)
        paths.append(str(version))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == ["refused"] * len(paths)
