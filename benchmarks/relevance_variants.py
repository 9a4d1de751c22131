"""Research script: variants of the Related score on the real-news corpora and Lee, one table.

Each *configuration* fits :class:`~recommender.Recommender` once per corpus (text options,
profile size, or a change to the article text such as the lead paragraph counted twice); each
*variant* is a score built from that fit's matrices:

* ``S`` scikit-learn ``TfidfVectorizer(stop_words="english", sublinear_tf=True)`` cosine;
* ``C`` the library's TF-IDF cosine (``neighbours=0``);
* ``A`` the anchored score ``(x_a.x_b + q_a.q_b) / (n_a n_b)`` (``core_weight=0``);
* ``A+wKk`` the anchored score plus ``w`` times the core overlap of the ``k`` strongest
  neighbours (the default is ``A+0.5K5``);
* ``A+wKks`` the same with a *self-included* core: each article's core also holds the article
  itself with weight 1 (the ``1 +`` of the core norm), so a pair that are each other's close
  neighbours also earns ``(core_a[b] + core_b[a]) / (c_a c_b)``;
* ``A+0.5Kk+gDk`` the default plus ``0.5 g`` times only the direct part of the self-included core;
* ``A+0.5Kk+bC`` and ``A+0.5Kk+relu(C-t)`` extra first-order weight (everywhere, or only above
  a cosine ``t``: a soft two-tier rank);
* ``A(l=w)+0.5K5`` the profile term weighted by ``w``; ``capC+...`` each profile scaled down to
  ``|q|^2 <= C`` (unchanged below), with the default or a self-included core;
* with ``--time``, time-proximity priors from ``published_at`` instead (:func:`time_variants`):
  ``f = floor + (1 - floor) exp(-(dt/scale)^2 / 2)`` times the default score, times only its
  topical part, or profiles restricted to a time window. Corpora with one date are unchanged by
  construction; MIX is scored with one shared date (its event corpora carry one fixed date each,
  its Reuters distractors 1987's: column ``MIX dated`` shows that unfair setting), and ECB+ once
  more with dates drawn uniformly over a year (``ECB+ shuffled``: dates that carry no signal).

The protocol is :mod:`bench_relevance`'s (same corpora, same 4,000 distractors, republished
copies excluded, P@min(10, n), Lee Pearson of the same score with the gate off); the
configuration ``base`` reproduces its default row. Run from the repository root::

    python benchmarks/relevance_variants.py --data artifacts/news [--configs base pn1 lead2 ...] [--time]

Each configuration takes a few minutes on 2 cores (``base`` evaluates every variant, about
15 minutes); the figures are in ``docs/relevance_research.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).parent))
import bench_relevance as bench  # noqa: E402
from recommender import Recommender  # noqa: E402
from recommender.evaluation.lee import lee_articles, lee_correlation, load_lee  # noqa: E402


def _lead_twice(article: dict) -> dict:
    paragraphs = [p for p in article["body"].split("\n") if p.strip()]
    return dict(article, body=paragraphs[0] + "\n\n" + article["body"]) if paragraphs else article


CONFIGS: dict[str, tuple[dict, Callable[[dict], dict] | None]] = {
    "base": ({}, None),
    "pn1": ({"proper_noun_weight": 1}, None),
    "tw1": ({"title_weight": 1.0}, None),
    "tw3": ({"title_weight": 3.0}, None),
    "mindf2": ({"min_df": 2}, None),
    "nostem": ({"stem": False}, None),
    "lead2": ({}, _lead_twice),
}
CORE_SIZES = (3, 4, 5, 6, 7, 8)
WINDOWS = (7, 30, 90)
SHUFFLE_DAYS = 365
TIME_GRID = ((1, 0.5), (2, 0.5), (3, 0.5), (5, 0.5), (7, 0.5), (14, 0.5), (1, 0.6), (2, 0.6), (3, 0.6), (5, 0.6),
             (7, 0.6), (2, 0.7), (3, 0.7), (5, 0.7), (7, 0.7), (14, 0.7), (30, 0.7), (7, 0.8), (14, 0.8), (30, 0.8))
SHORT_VARIANTS = ("S", "C", "A", "A+0.5K4", "A+0.75K4", "A+0.5K5", "A+0.75K5", "A+1.0K5", "A+0.5K6")


def core_matrices(profiles: sp.csr_matrix, size: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Core overlap of every pair (each row's entries at or above its ``size``-th cosine), and
    the self-included core overlap."""
    profiles = profiles.tocsr().astype(np.float64)
    rows, columns, values = [], [], []
    for i in range(profiles.shape[0]):
        start, stop = profiles.indptr[i], profiles.indptr[i + 1]
        data = profiles.data[start:stop]
        if len(data) == 0:
            continue
        kth = 0.0 if len(data) < size else -np.partition(-data, size - 1)[size - 1]
        keep = data >= kth
        rows.append(np.full(int(keep.sum()), i))
        columns.append(profiles.indices[start:stop][keep])
        values.append(data[keep])
    core = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
                         shape=profiles.shape)
    scale = sp.diags(1 / np.sqrt(1 + np.asarray(core.multiply(core).sum(1)).ravel()))
    shared = scale @ (core @ core.T) @ scale
    direct = scale @ (core + core.T) @ scale
    return shared.astype(np.float32).tocsr(), (shared + direct).astype(np.float32).tocsr()


def days_of(articles: list[dict]) -> np.ndarray:
    """``published_at`` of every article in days (float) since the epoch."""
    stamps = [a["published_at"] if isinstance(a["published_at"], datetime)
              else datetime.fromisoformat(a["published_at"]) for a in articles]
    return np.array([stamp.timestamp() / 86_400 for stamp in stamps])


def time_factor(days: np.ndarray, scale: float, floor: float) -> np.ndarray:
    """``floor + (1 - floor) exp(-(dt/scale)^2 / 2)`` for every pair (1 on the diagonal and for equal dates)."""
    gap = (days[:, None] - days[None, :]) / scale
    return (floor + (1 - floor) * np.exp(-0.5 * gap * gap)).astype(np.float32)


def windowed(profiles: sp.csr_matrix, days: np.ndarray, window: float) -> sp.csr_matrix:
    """The profiles with every neighbour published more than ``window`` days from the article removed."""
    coo = profiles.tocoo()
    keep = np.abs(days[coo.row] - days[coo.col]) <= window
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=profiles.shape)


def dated(profiles: sp.csr_matrix, cosine: np.ndarray, days: np.ndarray) -> dict:
    """``days`` and, for each window of :data:`WINDOWS`, the anchored score and 5-core of the
    profiles restricted to it (``A@w``, ``K5@w``)."""
    found: dict = {"days": days}
    for window in WINDOWS:
        rows = windowed(profiles, days, window)
        inner = (rows @ rows.T).toarray().astype(np.float32)
        norms = np.sqrt(1 + np.asarray(rows.multiply(rows).sum(1)).ravel()).astype(np.float32)
        found[f"A@{window}"] = (cosine + inner) / np.outer(norms, norms)
        found[f"K5@{window}"] = core_matrices(rows, 5)[0]
    return found


def matrices(articles: list[dict], options: dict, days: np.ndarray | None = None) -> dict:
    """The dense C and A matrices and the sparse core matrices of one fit (with ``days``, also the
    anchored score and 5-core of the profiles restricted to each time window of :data:`WINDOWS`)."""
    model = Recommender(**options).fit(articles)
    vectors, profiles = model.index_.vectors, model.profiles_
    norms = profiles.norms.astype(np.float32)
    cosine = (vectors @ vectors.T).toarray().astype(np.float32)
    overlap = (profiles.rows @ profiles.rows.T).toarray().astype(np.float32)
    anchored = (cosine + overlap) / np.outer(norms, norms)
    found = {"C": cosine, "A": anchored, "QQ": overlap, "q2": norms.astype(np.float64) ** 2 - 1,
             "P": overlap / np.outer(norms, norms), "rows": profiles.rows}
    for size in CORE_SIZES:
        found[f"K{size}"], found[f"K{size}s"] = core_matrices(profiles.rows, size)
    if days is not None:
        found.update(dated(profiles.rows, cosine, days))
    ids = [a["id"] for a in articles[:5]]
    served = model.similarity(ids, [a["id"] for a in articles])
    mine = anchored[:5] + model.core_weight * found[f"K{model.core_neighbours}"][:5].toarray()
    assert np.allclose(served[:, 5:], mine[:, 5:], atol=3e-4), "the replica differs from Recommender.similarity"
    return found


def weighted(m: dict, weight: float) -> np.ndarray:
    """The anchored score with the profile term weighted: ``(x.x + w q.q) / sqrt((1 + w|q_a|^2)(1 + w|q_b|^2))``."""
    norms = np.sqrt(1 + weight * m["q2"]).astype(np.float32)
    return (m["C"] + np.float32(weight) * m["QQ"]) / np.outer(norms, norms)


def capped(m: dict, cap: float) -> np.ndarray:
    """The anchored score with each profile scaled down to ``|q|^2 <= cap`` (unchanged below)."""
    scale = np.minimum(1.0, np.sqrt(cap / np.maximum(m["q2"], 1e-12))).astype(np.float32)
    norms = np.sqrt(1 + scale.astype(np.float64) ** 2 * m["q2"]).astype(np.float32)
    return (m["C"] + np.outer(scale, scale) * m["QQ"]) / np.outer(norms, norms)


def variants(full: bool) -> dict[str, Callable[[dict], np.ndarray]]:
    found: dict[str, Callable[[dict], np.ndarray]] = {
        "S": lambda m: m["S"], "C": lambda m: m["C"], "A": lambda m: m["A"]}
    for size in CORE_SIZES:
        for weight in (0.25, 0.5, 0.75, 1.0):
            found[f"A+{weight}K{size}"] = (lambda s, w: lambda m: m["A"] + w * m[f"K{s}"].toarray())(size, weight)
            found[f"A+{weight}K{size}s"] = (lambda s, w: lambda m: m["A"] + w * m[f"K{s}s"].toarray())(size, weight)
    for size in (4, 5, 6):
        for beta in (0.1, 0.2, 0.3):
            found[f"A+0.5K{size}+{beta}C"] = (lambda s, b: lambda m: m["A"] + 0.5 * m[f"K{s}"].toarray()
                                              + b * m["C"])(size, beta)
        for t in (0.3, 0.4, 0.5):
            found[f"A+0.5K{size}+relu(C-{t})"] = (lambda s, t: lambda m: m["A"] + 0.5 * m[f"K{s}"].toarray()
                                                  + np.maximum(m["C"] - t, 0))(size, t)
    for size in (4, 5):  # the direct part of the self-included core, added to the core term
        for gamma in (0.1, 0.2, 0.3):
            found[f"A+0.5K{size}+{gamma}D{size}"] = (lambda s, g: lambda m: m["A"] + 0.5 * m[f"K{s}"].toarray()
                                                     + 0.5 * g * (m[f"K{s}s"] - m[f"K{s}"]).toarray())(size, gamma)
    found["C+0.5K5s"] = lambda m: m["C"] + 0.5 * m["K5s"].toarray()
    for weight in (0.5, 0.25, 0.1):
        found[f"A(l={weight})+0.5K5"] = (lambda w: lambda m: weighted(m, w) + 0.5 * m["K5"].toarray())(weight)
    for cap in (0.25, 0.5, 0.75, 1.0, 2.0):
        found[f"cap{cap}+0.5K5"] = (lambda c: lambda m: capped(m, c) + 0.5 * m["K5"].toarray())(cap)
        for weight in (0.25, 0.35, 0.5):
            found[f"cap{cap}+{weight}K5s"] = (lambda c, w: lambda m: capped(m, c) + w * m["K5s"].toarray())(cap, weight)
        found[f"cap{cap}+0.5K5+0.1D5"] = (lambda c: lambda m: capped(m, c) + 0.5 * m["K5"].toarray()
                                          + 0.05 * (m["K5s"] - m["K5"]).toarray())(cap)
    return found if full else {name: f for name, f in found.items() if name in SHORT_VARIANTS}


def time_variants() -> dict[str, Callable[[dict], np.ndarray]]:
    """Time-proximity priors on the default score ``A+0.5K5`` (``f`` = :func:`time_factor`):
    ``f*D`` the whole score decayed; ``C'+f*T`` only the graded topical part (profile term and core)
    decayed, the anchored cosine ``x.x/(n n)`` kept; ``D@w`` profiles (hence core) restricted to
    neighbours within ``w`` days; ``f*C`` the plain cosine decayed, for reference."""
    found: dict[str, Callable[[dict], np.ndarray]] = {
        "S": lambda m: m["S"], "C": lambda m: m["C"], "A+0.5K5": lambda m: m["A"] + 0.5 * m["K5"].toarray()}
    for scale, floor in TIME_GRID:
        found[f"f({scale},{floor})*D"] = (lambda s, f: lambda m: time_factor(m["days"], s, f)
                                          * (m["A"] + 0.5 * m["K5"].toarray()))(scale, floor)
        found[f"C'+f({scale},{floor})*T"] = (lambda s, f: lambda m: (m["A"] - m["P"]) + time_factor(m["days"], s, f)
                                             * (m["P"] + 0.5 * m["K5"].toarray()))(scale, floor)
    for scale, floor in ((7, 0.5), (14, 0.7)):
        found[f"f({scale},{floor})*C"] = (lambda s, f: lambda m: time_factor(m["days"], s, f) * m["C"])(scale, floor)
    for window in WINDOWS:
        found[f"D@{window}"] = (lambda w: lambda m: m[f"A@{w}"] + 0.5 * m[f"K5@{w}"].toarray())(window)
        found[f"f(14,0.7)*D@{window}"] = (lambda w: lambda m: time_factor(m["days"], 14, 0.7)
                                          * (m[f"A@{w}"] + 0.5 * m[f"K5@{w}"].toarray()))(window)
    return found


precision = bench._precision  # integer labels and id ranks serve as well


def run(name: str, data: Path, timed: bool = False) -> dict[str, dict[str, float]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    options, transform = CONFIGS[name]
    rng = np.random.default_rng(0)
    cases = bench.settings(data, False, rng)
    found, meta = {}, {}
    for case, (articles, field, fixed_k) in cases.items():
        plain = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
            [a["title"] + "\n" + a["body"] for a in articles])
        plain = (plain @ plain.T).toarray().astype(np.float32)
        labels, queries = bench.labelled_queries(case, articles, field, rng)
        ids = np.array([a["id"] for a in articles]).astype(str)
        id_rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
        codes = np.unique(labels.astype(str), return_inverse=True)[1]
        days = days_of(articles) if timed else None
        if timed and case == "MIX event":  # event articles carry one fixed date per corpus, distractors 1987's
            days = np.zeros(len(articles))
        fitted = dict(found["ECB+ event"]) if case == "ECB+ topic" else matrices(
            [transform(a) for a in articles] if transform else articles, options, days)
        fitted["S"] = plain
        if timed and case == "MIX event":
            fitted["dated"] = days_of(articles)
        if timed and case == "ECB+ event":  # the hidden check's dates are shuffled: noise, not signal
            shuffle = np.random.default_rng(1).uniform(0, SHUFFLE_DAYS, len(articles))
            fitted["shuffled"] = dict(fitted, **dated(fitted["rows"], fitted["C"], shuffle))
        found[case] = fitted
        meta[case] = (labels, queries, plain >= bench.COPY_COSINE, fixed_k, codes, id_rank)
    lee = load_lee()
    rated = slice(bench_lee_first(lee), None)
    lee_found = matrices(lee_articles(lee), options, days_of(lee_articles(lee)) if timed else None)
    lee_found = {key: value[rated] if key in ("q2", "days") else value[rated, rated]
                 for key, value in lee_found.items()}
    table = {}
    for variant, score in (time_variants() if timed else variants(name == "base")).items():
        row = {}
        for case in cases:
            labels, queries, copies, fixed_k, codes, id_rank = meta[case]
            scores = score(found[case])
            row[case] = precision(scores, codes, queries, copies, fixed_k, id_rank)
            if case == "MIX event":
                for prefix in ("wcl", "wr", "ecb"):
                    part = np.array([i for i in queries if str(labels[i]).startswith(prefix + ":")])
                    row[f"MIX/{prefix}"] = precision(scores, codes, part, copies, fixed_k, id_rank)
                if timed and "@" not in variant:  # the corpora's own dates (distractors decades apart)
                    mixed = score(dict(found[case], days=found[case]["dated"]))
                    row["MIX dated"] = precision(mixed, codes, queries, copies, fixed_k, id_rank)
            if timed and case == "ECB+ event":
                row["ECB+ shuffled"] = precision(score(found[case]["shuffled"]), codes, queries, copies, fixed_k,
                                                 id_rank)
        if variant != "S":
            lee_scores = np.asarray(score(lee_found), dtype=np.float64)
            row["Lee r"] = lee_correlation((lee_scores + lee_scores.T) / 2, lee)["pearson"]
        table[variant] = row
    return table


def bench_lee_first(lee) -> int:
    """Row of the first rated document among :func:`lee_articles` (background stories come first)."""
    return len(lee_articles(lee)) - len(lee.documents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="artifacts/news", help="folder written by benchmarks/news_data.py")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--time", action="store_true", help="the time-proximity variants instead")
    args = parser.parse_args()
    start = time.perf_counter()
    columns = ["NewsWCL50 event", "WikiRef220 topic", "ECB+ event", "ECB+ topic", "MIX event", "MIX/wcl", "MIX/wr",
               "MIX/ecb", "Reuters topic P@10", "GVA event", "Lee r"] + (["MIX dated", "ECB+ shuffled"] if args.time
                                                                          else [])
    print("| configuration | score | " + " | ".join(columns) + " |")
    print("| --- | --- |" + " ---: |" * len(columns))
    for name in args.configs:
        for variant, row in run(name, Path(args.data), args.time).items():
            print(f"| {name} | {variant} | " + " | ".join(f"{row[c]:.3f}" if c in row else "–" for c in columns)
                  + " |", flush=True)
        print(f"# {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
