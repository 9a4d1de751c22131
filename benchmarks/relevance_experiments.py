"""Relevance experiments for Related lists (issue 6): can TF-IDF + nearest neighbours reach Lee r >= 0.70?

One command prints every table of ``docs/relevance_research.md``::

    python benchmarks/relevance_experiments.py            # about 20 minutes on 2 cores (100k cost included)
    python benchmarks/relevance_experiments.py --quick    # smaller synthetic corpora, cost at 10k only

Needs the ``eval`` extra (gensim ships the Lee data and the mini newsgroups sample) and PyStemmer
(``pip install PyStemmer``); sparse_dot_topn is used for the 100k precompute when installed.

Every method is a *representation* ``Z`` of an article (rows of unit length, sparse or dense) so that
its similarity to another article is the dot product ``z_a . z_b`` -- what
:class:`recommender._index.CosineIndex` serves. Blends of two unit views are concatenations
``[sqrt(w) Z1, sqrt(1 - w) Z2]`` (dot product ``w cos1 + (1 - w) cos2``).

Data sets:

* **Lee** -- the library protocol (``recommender.evaluation.lee``): statistics fitted on the 300 background +
  50 rated stories, Pearson/Spearman of the 50x50 similarities with the human means. Reported once per
  method; never used to choose a constant.
* **sample** -- the bundled sample corpus; Related P@5 and nDCG@10 against ``sample_stories()``.
* **short** -- the same articles without titles, cut to their first 40 words (Lee-length texts, so the
  task is off its ceiling). A tuning set.
* **NG** -- the 200 Usenet posts of two groups in gensim's test data (``mini_newsgroup``), headers and
  quoted lines removed, cut to 80 words; P@5 / nDCG@10 of same-group neighbours. Real English text with
  morphology. A tuning set.
* **synthetic** -- ``recommender.evaluation.synthetic.generate_articles`` story clusters; P@5 and recall@10 of
  same-story mates. A tuning set; the incremental section uses it chronologically.

Related lists are built as ``related()`` builds them: best by the method's score, never the article
itself, never a first-order near-duplicate (TF-IDF cosine >= 0.8) of it or of a hit already taken;
``min_similarity`` is not applied (scores of different methods live on different scales).
"""

from __future__ import annotations

import argparse
import copyreg
import io
import math
import pickle
import re
import sys
import time
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import randomized_svd

from recommender import load_articles
from recommender.datasets import sample_articles_path, sample_stories
from recommender.evaluation.metrics import mean_over_queries, ndcg_at_k, pearson, precision_at_k, recall_at_k, spearman
from recommender._index import CosineIndex, top_rows
from recommender.evaluation.lee import lee_data_dir, load_lee
from recommender._text import english_stop_words, strip_boilerplate

try:
    import Stemmer  # PyStemmer: Snowball in C
except ImportError:  # pragma: no cover - optional
    Stemmer = None
try:
    from sparse_dot_topn import sp_matmul_topn
except ImportError:  # pragma: no cover - optional
    sp_matmul_topn = None
try:
    from recommender.evaluation.synthetic import generate_articles
except ImportError:  # pragma: no cover - older checkouts
    generate_articles = None

DUPLICATE_THRESHOLD = 0.8  # Recommender default: near-duplicates are judged on first-order TF-IDF cosine


# =============================================================================== text analysis
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SENTENCE_END = re.compile(r"[.!?:;\"'\u201c\u201d(\[\n]\s*$|^\s*$")


@dataclass(frozen=True)
class Analysis:
    """How text becomes weighted term counts.

    stem : Snowball English (PyStemmer) on every token after stop-word removal.
    bigrams : also count adjacent-token pairs (after stop-word removal), kept if in >= 2 documents.
    proper : weight of a capitalised token that does not start a sentence (1 = off).
    """

    stem: bool = False
    bigrams: bool = False
    proper: float = 1.0


class _Stems:
    def __init__(self) -> None:
        self.stemmer = Stemmer.Stemmer("english") if Stemmer is not None else None
        self.cache: dict[str, str] = {}

    def __call__(self, words: list[str]) -> list[str]:
        missing = [w for w in set(words) if w not in self.cache]
        if missing:
            if self.stemmer is None:
                raise SystemExit("stemming needs PyStemmer: pip install PyStemmer")
            self.cache.update(zip(missing, self.stemmer.stemWords(missing)))
        return [self.cache[w] for w in words]


_STEMS = _Stems()


def _tokens(text: str, analysis: Analysis) -> tuple[list[str], list[float]]:
    """Lower-cased, stop-word-free tokens of ``text`` and their weights (proper-noun emphasis)."""
    words, weights = [], []
    for match in _TOKEN.finditer(text):
        word = match.group()
        lower = word.lower()
        if lower in english_stop_words():
            continue
        weight = 1.0
        if analysis.proper != 1.0 and word[0].isupper() and not word.isupper():
            before = text[max(0, match.start() - 3):match.start()]
            if not _SENTENCE_END.search(before):
                weight = analysis.proper
        words.append(lower)
        weights.append(weight)
    if analysis.stem:
        words = _STEMS(words)
    if analysis.bigrams:
        pairs = [f"{a} {b}" for a, b in zip(words, words[1:])]
        pair_weights = [max(a, b) for a, b in zip(weights, weights[1:])]
        words, weights = words + pairs, weights + pair_weights
    return words, weights


def _counts(documents: Sequence[tuple[str, str]], analysis: Analysis, title_weight: float) -> list[Counter]:
    out = []
    for title, body in documents:
        counts: Counter = Counter()
        for text, scale in ((unicodedata.normalize("NFKC", title), title_weight),
                            (strip_boilerplate(unicodedata.normalize("NFKC", body)), 1.0)):
            if scale and text:
                words, weights = _tokens(text, analysis)
                for word, weight in zip(words, weights):
                    counts[word] += weight * scale
        out.append(counts)
    return out


# =============================================================================== term weighting
@dataclass(frozen=True)
class Weighting:
    """First-order TF-IDF settings. ``tf``: "sublinear" (1 + ln tf, the default), "raw" or "bm25"."""

    analysis: Analysis = Analysis()
    tf: str = "sublinear"
    k1: float = 1.2
    b: float = 0.75
    title_weight: float = 2.0
    max_df: float = 0.9


@dataclass
class Fitted:
    """A first-order model fitted on a corpus: vocabulary, IDF, average length, and the corpus rows."""

    weighting: Weighting
    vocabulary: dict[str, int]
    idf: np.ndarray
    avgdl: float
    X: sp.csr_matrix  # unit rows of the fit corpus

    def transform(self, documents: Sequence[tuple[str, str]]) -> sp.csr_matrix:
        return _weigh(_counts(documents, self.weighting.analysis, self.weighting.title_weight),
                      self.vocabulary, self.idf, self.avgdl, self.weighting)


def _tf_matrix(counts: list[Counter], vocabulary: dict[str, int]) -> sp.csr_matrix:
    indptr, indices, data = [0], [], []
    for c in counts:
        for word, n in c.items():
            column = vocabulary.get(word)
            if column is not None:
                indices.append(column)
                data.append(n)
        indptr.append(len(indices))
    return sp.csr_matrix((np.array(data, float), np.array(indices, np.int64), np.array(indptr)),
                         shape=(len(counts), len(vocabulary)))


def _weigh(counts, vocabulary, idf, avgdl, w: Weighting) -> sp.csr_matrix:
    tf = _tf_matrix(counts, vocabulary)
    tf.sum_duplicates()
    if w.tf == "sublinear":
        big = tf.data >= 1.0
        tf.data[big] = 1.0 + np.log(tf.data[big])
    elif w.tf == "bm25":
        lengths = np.array([sum(c.values()) for c in counts])
        norm = w.k1 * (1 - w.b + w.b * lengths / avgdl)
        row_norm = np.repeat(norm, np.diff(tf.indptr))
        tf.data = tf.data * (w.k1 + 1) / (tf.data + row_norm)
    X = normalize(tf @ sp.diags(idf), copy=False)
    X.sort_indices()
    return sp.csr_matrix(X)


def fit_first_order(documents: Sequence[tuple[str, str]], w: Weighting) -> Fitted:
    counts = _counts(documents, w.analysis, w.title_weight)
    n = len(counts)
    df: Counter = Counter()
    for c in counts:
        df.update(c.keys())
    max_count = max(2, int(w.max_df * n)) if w.max_df < 1 else n
    keep = [t for t, d in df.items() if d <= max_count and (d >= 2 or " " not in t)]  # bigrams: df >= 2
    keep.sort()
    vocabulary = {t: i for i, t in enumerate(keep)}
    dfs = np.array([df[t] for t in keep], float)
    idf = np.log((1 + n) / (1 + dfs)) + 1
    avgdl = float(np.mean([sum(c.values()) for c in counts]))
    X = _weigh(counts, vocabulary, idf, avgdl, w)
    return Fitted(w, vocabulary, idf, avgdl, X)


# =============================================================================== second-order views
def top_m_dense(S: np.ndarray, m: int | None) -> sp.csr_matrix:
    """Keep the ``m`` largest positive entries of each row of a dense block (all positive ones if ``None``)."""
    n_rows, n_cols = S.shape
    if m is None or m >= n_cols:
        return sp.csr_matrix(np.where(S > 0, S, 0))
    cols = np.argpartition(-S, m - 1, axis=1)[:, :m]
    vals = np.take_along_axis(S, cols, axis=1)
    keep = vals > 0
    rows = np.repeat(np.arange(n_rows), m).reshape(n_rows, m)
    return sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=S.shape)


def concept_means(C: sp.csr_matrix, block: int = 512) -> np.ndarray:
    """Mean cosine of each concept row with all concept rows (itself excluded): its background level."""
    CT = sp.csr_matrix(C.T)
    total = np.zeros(C.shape[0])
    for lo in range(0, C.shape[0], block):
        total += np.asarray((C[lo:lo + block] @ CT).sum(axis=0)).ravel()
    return (total - 1.0) / max(1, C.shape[0] - 1)


def profiles(X: sp.csr_matrix, C: sp.csr_matrix, m: int | None, *, self_rows: np.ndarray | None = None,
             center: np.ndarray | None = None, hub_idf: bool = False, normalized: bool = True,
             block: int = 512, CT: sp.csr_matrix | None = None, floor: float = 0.0,
             z: float | None = None, concept_floor: np.ndarray | None = None) -> sp.csr_matrix:
    """Second-order profile: each row's cosines to the concept rows ``C``, top ``m`` kept.

    self_rows : for each row of ``X`` the concept row that is the article itself (-1: none); that entry is
        dropped, so a profile describes an article by *other* articles, whether or not it is a concept.
    center : per-concept background cosine to subtract first (negative results dropped).
    hub_idf : weight concept c by ln(N / (1 + n_c)) + 1, n_c = number of concept rows whose top m holds c
        (down-weights "hub" concepts close to everything).
    normalized : scale rows to unit length (else raw cosines).
    floor : cosines below it never make a concept (an article with no close neighbour has an empty profile).
    concept_floor : per-concept minimum cosine (mutual neighbours: the concept's own m-th neighbour cosine).
    z : keep a concept only if its cosine is at least mean + z * std of the row's cosines to all concepts.
    """
    CT = sp.csr_matrix(C.T) if CT is None else CT
    parts = []
    for lo in range(0, X.shape[0], block):
        S = (X[lo:lo + block] @ CT).toarray()
        if self_rows is not None:
            own = self_rows[lo:lo + block]
            hit = np.flatnonzero(own >= 0)
            S[hit, own[hit]] = 0.0
        if center is not None:
            S -= center[None, :]
        if floor > 0:
            S[S < floor] = 0.0
        if concept_floor is not None:
            S[S < concept_floor[None, :]] = 0.0
        if z is not None:  # keep only neighbours far above this article's own background level
            S[S < (S.mean(axis=1) + z * S.std(axis=1))[:, None]] = 0.0
        parts.append(top_m_dense(S, m))
    P = sp.vstack(parts, format="csr")
    if hub_idf:
        Pc = profiles(C, C, m, self_rows=np.arange(C.shape[0]), normalized=False, CT=CT)
        n_c = np.bincount(Pc.indices, minlength=C.shape[0])
        P = sp.csr_matrix(P @ sp.diags(np.log(C.shape[0] / (1.0 + n_c)) + 1))
    return normalize(P) if normalized else P


def mth_cosines(C: sp.csr_matrix, m: int, block: int = 512) -> np.ndarray:
    """Each concept row's m-th largest cosine to the other concept rows: what a newcomer must beat to
    enter its top m."""
    CT = sp.csr_matrix(C.T)
    out = np.zeros(C.shape[0])
    for lo in range(0, C.shape[0], block):
        S = (C[lo:lo + block] @ CT).toarray()
        S[np.arange(S.shape[0]), np.arange(lo, lo + S.shape[0])] = -np.inf
        mm = min(m, S.shape[1] - 1)
        out[lo:lo + S.shape[0]] = -np.partition(-S, mm - 1, axis=1)[:, mm - 1]
    return np.maximum(out, 1e-12)


def blend(views: Sequence[tuple[float, sp.spmatrix | np.ndarray]]) -> sp.csr_matrix | np.ndarray:
    """Concatenate unit-row views scaled by sqrt(weight): dot products are the weighted cosine blend."""
    weights = np.array([w for w, _ in views], float)
    weights = weights / weights.sum()
    if any(not sp.issparse(v) for _, v in views):
        return np.hstack([math.sqrt(w) * (v.toarray() if sp.issparse(v) else v) for w, (_, v) in zip(weights, views)])
    return sp.hstack([math.sqrt(w) * v for w, (_, v) in zip(weights, views)], format="csr")


def expand(X: sp.csr_matrix, C: sp.csr_matrix, r: int, beta: float) -> sp.csr_matrix:
    """Pseudo-relevance feedback in term space: x + beta * (cosine-weighted mean of its top-r concept rows)."""
    P = normalize(profiles(X, C, r, normalized=False), norm="l1")
    return normalize(X + beta * (P @ C))


# =============================================================================== methods
@dataclass(frozen=True)
class Method:
    """A recipe: first-order weighting (``weighting``), then a view of it.

    view:
      "first"     x: the TF-IDF row (unit length) -- today's library
      "second"    p: unit-length top-m cosines to the concept rows (the fit corpus), the article's own
                  concept included when it is one (``noself`` drops it)
      "blend2"    w x + (1 - w) p  (concatenation of sqrt-weighted unit views)
      "anchored"  normalize([sqrt(anchor) x, q]) with q the *raw* top-m cosines to the other concept rows:
                  x . x' carries the direct similarity, q . q' the shared neighbours; an article with
                  strong neighbours leans on them, an isolated one on its own words
      "lsa"       w x + (1 - w) l, l = rank-k SVD projection of x (fitted on the fit corpus)
      "prf"       x + beta * (mean of its top-r concept rows, cosine-weighted), renormalised
    transform: monotone transform of the final score ("sqrt", "rank"): changes Pearson only, never a ranking.
    """

    name: str
    weighting: Weighting = Weighting()
    view: str = "first"
    m: int | None = None
    w: float = 1.0
    anchor: float = 1.0
    k: int = 100
    r: int = 10
    beta: float = 0.5
    noself: bool = False
    center: bool = False
    hub_idf: bool = False
    floor: float = 0.0
    z: float | None = None
    mutual: bool = False        # c counts for a only if a would be among c's own top m (mutual neighbours)
    transform: str = "none"

    def represent(self, fitted: Fitted, X: sp.csr_matrix, self_rows: np.ndarray,
                  concepts: sp.csr_matrix | None = None) -> sp.csr_matrix | np.ndarray:
        """Rows ``X`` (first-order, fitted vocabulary) in this method's space; ``self_rows``: each row's own
        concept row or -1. Concepts: ``concepts`` if given (the grown index), else the fit corpus."""
        C = fitted.X if concepts is None else concepts
        if self.view == "first":
            return X

        def prof(noself: bool, normalized: bool = True) -> sp.csr_matrix:
            return profiles(X, C, self.m, self_rows=self_rows if noself else None, normalized=normalized,
                            center=concept_means(C) if self.center else None, hub_idf=self.hub_idf, floor=self.floor, z=self.z,
                            concept_floor=mth_cosines(C, self.m) if self.mutual else None)

        if self.view == "second":
            return prof(self.noself)
        if self.view == "blend2":
            return blend([(self.w, X), (1 - self.w, prof(self.noself))])
        if self.view == "anchored":
            return normalize(sp.hstack([math.sqrt(self.anchor) * X, prof(True, normalized=False)], format="csr"))
        if self.view == "lsa":
            k = max(2, min(self.k, min(C.shape) - 1))
            _, _, VT = randomized_svd(C, k, random_state=0)
            L = normalize(X @ VT.T)
            return blend([(self.w, X), (1 - self.w, L)]) if self.w > 0 else L
        if self.view == "prf":
            return expand(X, C, self.r, self.beta)
        raise ValueError(self.view)


def similarity(method: Method, fitted: Fitted, X: sp.csr_matrix, self_rows: np.ndarray,
               concepts: sp.csr_matrix | None = None) -> np.ndarray:
    Z = method.represent(fitted, X, self_rows, concepts)
    S = Z @ Z.T
    S = S.toarray() if sp.issparse(S) else np.asarray(S)
    if method.transform == "sqrt":
        S = np.sqrt(np.clip(S, 0, None))
    elif method.transform == "rank":
        order = S.ravel().argsort().argsort()
        S = (order / order.size).reshape(S.shape)
    return S


# =============================================================================== data sets
@dataclass
class Corpus:
    name: str
    documents: list[tuple[str, str]]
    labels: list[str | None]          # same label = relevant to each other; None = judged by nobody
    k: int = 10
    groups: list[str | None] | None = None   # a coarser grade (section): graded pair relevance 2/1/0


def _first_words(text: str, n: int) -> str:
    words = text.split()
    return " ".join(words[:n])


def sample_corpus(short: bool = False) -> Corpus:
    articles = load_articles(sample_articles_path())
    story_of = {a: s for s, members in sample_stories()["stories"].items() for a in members}
    docs = [("", _first_words(a.body, 40)) if short else (a.title, a.body) for a in articles]
    return Corpus("sample-short" if short else "sample", docs, [story_of.get(a.id) for a in articles],
                  groups=[a.section for a in articles])


def _restricted_unpickle(data: bytes) -> dict:
    """Read gensim's pickled scikit-learn ``Bunch`` allowing only plain containers and numpy arrays."""
    import importlib

    class Bunch(dict):
        def __setstate__(self, state):
            self.update(state)

    class Reader(pickle.Unpickler):
        def find_class(self, module, name):
            if name == "Bunch":
                return Bunch
            if (module, name) in {("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor")}:
                return copyreg._reconstructor
            if module in ("__builtin__", "builtins") and name in ("dict", "object", "list"):
                return getattr(__import__("builtins"), name)
            if module.startswith("numpy") and name in ("_reconstruct", "ndarray", "dtype", "scalar"):
                return getattr(importlib.import_module(module.replace("numpy.core", "numpy._core")), name)
            raise pickle.UnpicklingError(f"refusing {module}.{name}")

    return Reader(io.BytesIO(data), encoding="latin1").load()


def newsgroups_corpus(words: int = 80) -> Corpus:
    bunch = _restricted_unpickle(zlib.decompress((lee_data_dir() / "mini_newsgroup").read_bytes()))
    docs, labels = [], []
    for text, target in zip(bunch["data"], bunch["target"]):
        head, _, body = text.partition("\n\n")
        lines = [line for line in body.splitlines()
                 if line.strip() and not line.lstrip().startswith((">", "|", ":")) and "writes:" not in line
                 and "wrote:" not in line and not line.startswith("--")]
        docs.append(("", _first_words(" ".join(lines), words)))
        labels.append(bunch["target_names"][int(target)])
    return Corpus("newsgroups", docs, labels)


def synthetic_corpus(n: int, seed: int = 7) -> Corpus | None:
    if generate_articles is None:
        return None
    arts = list(generate_articles(n, seed=seed))
    return Corpus(f"synthetic-{n // 1000}k", [(a["title"], a["body"]) for a in arts], [a["story"] for a in arts],
                  groups=[a["section"] for a in arts])


# =============================================================================== scoring
def related_lists(S: np.ndarray, S1: np.ndarray, k: int) -> list[list[int]]:
    """Related rows per row as ``related()`` builds them: best by ``S``, never self, no near-duplicate
    (first-order cosine ``S1`` >= 0.8) of the query or of a row already taken."""
    out = []
    for i in range(S.shape[0]):
        scores = S[i].copy()
        scores[i] = -np.inf
        scores[S1[i] >= DUPLICATE_THRESHOLD] = -np.inf
        order = np.argsort(-scores, kind="stable")
        kept: list[int] = []
        for j in order:
            if not np.isfinite(scores[j]) or scores[j] <= 0:
                break
            if kept and S1[j, kept].max() >= DUPLICATE_THRESHOLD:
                continue
            kept.append(int(j))
            if len(kept) == k:
                break
        out.append(kept)
    return out


def label_scores(method: Method, corpus: Corpus) -> dict[str, float]:
    fitted = fit_first_order(corpus.documents, method.weighting)
    S = similarity(method, fitted, fitted.X, np.arange(fitted.X.shape[0]))
    S1 = (fitted.X @ fitted.X.T).toarray()
    lists = related_lists(S, S1, corpus.k)
    labels = corpus.labels
    p5, nd, rec = [], [], []
    for i, items in enumerate(lists):
        mates = {j for j, l in enumerate(labels) if l is not None and l == labels[i] and j != i}
        mates -= {j for j in mates if S1[i, j] >= DUPLICATE_THRESHOLD}
        p5.append(precision_at_k(items, mates, 5) if labels[i] is not None else float("nan"))
        nd.append(ndcg_at_k(items, mates, 10) if labels[i] is not None else float("nan"))
        rec.append(recall_at_k(items, mates, 10) if labels[i] is not None else float("nan"))
    grade = _grades(corpus)
    iu = np.triu_indices(len(labels), 1)
    pair_r = pearson(S[iu], grade[iu])
    return {"pair_r": pair_r, "p5": mean_over_queries(p5), "ndcg10": mean_over_queries(nd), "recall10": mean_over_queries(rec)}


def _grades(corpus: Corpus) -> np.ndarray:
    """Graded relevance of every pair: 2 same story/label, 1 same section, 0 otherwise."""
    labels = np.array([l if l is not None else f"__alone{i}" for i, l in enumerate(corpus.labels)], dtype=object)
    grade = (labels[:, None] == labels[None, :]).astype(float) * 2
    if corpus.groups is not None:
        groups = np.array(corpus.groups, dtype=object)
        grade = np.maximum(grade, (groups[:, None] == groups[None, :]).astype(float))
    return grade


_LEE = None


def lee_scores(method: Method) -> dict[str, float]:
    global _LEE
    if _LEE is None:
        _LEE = load_lee()
    data = _LEE
    docs = [("", body) for body in data.background] + [("", body) for body in data.documents]
    fitted = fit_first_order(docs, method.weighting)
    rows = np.arange(len(data.background), len(docs))
    S = similarity(method, fitted, fitted.X[rows], rows)
    pairs = S[np.triu_indices(len(rows), 1)]
    return {"pearson": pearson(pairs, data.human_pairs), "spearman": spearman(pairs, data.human_pairs)}


def incremental_scores(method: Method, corpus: Corpus, fit_share: float, upkeep: str) -> dict[str, float]:
    """Fit on the first ``fit_share`` of a (chronological) corpus, add the rest as ``add_articles`` would
    (fitted vocabulary and IDF, no refit), and score the Related lists of the *added* articles -- whose
    stories mostly began after the fit, with names the vocabulary has never seen.

    upkeep (anchored view only; first-order methods ignore it):
      "frozen"  concepts = the fit-time articles; a newcomer's profile is its top m among them
      "grow"    every newcomer becomes a concept and enters the profiles whose top m it beats
                (exact top-m upkeep: equal to recomputing every profile over the grown index);
                its own profile is its top m
      "mutual"  as "grow", but a newcomer keeps a neighbour c in its own profile only if it also enters
                c's top m (its cosine beats c's m-th): the recommended rule
    """
    n_fit = int(len(corpus.documents) * fit_share)
    fitted = fit_first_order(corpus.documents[:n_fit], method.weighting)
    X = sp.vstack([fitted.X, fitted.transform(corpus.documents[n_fit:])], format="csr")
    n = X.shape[0]
    if method.view == "first":
        Z = X
    elif method.view == "anchored":
        kw = dict(normalized=False, floor=method.floor, concept_floor=mth_cosines(fitted.X, method.m) if method.mutual else None)
        if upkeep == "frozen":
            Q = profiles(X, fitted.X, method.m, self_rows=np.concatenate([np.arange(n_fit), np.full(n - n_fit, -1)]), **kw)
        else:
            kw["concept_floor"] = mth_cosines(X, method.m) if method.mutual else None
            old = profiles(X[:n_fit], X, method.m, self_rows=np.arange(n_fit), **kw)
            if upkeep == "mutual":
                kw["concept_floor"] = mth_cosines(X, method.m)
            new = profiles(X[n_fit:], X, method.m, self_rows=np.arange(n_fit, n), **kw)
            Q = sp.vstack([old, new], format="csr")
        Z = normalize(sp.hstack([math.sqrt(method.anchor) * X, Q], format="csr"))
    else:
        raise ValueError(f"incremental scoring covers first-order and anchored views, not {method.view!r}")
    S = (Z @ Z.T).toarray()
    S1 = (X @ X.T).toarray()
    lists = related_lists(S, S1, corpus.k)
    labels = corpus.labels
    p5, rec = [], []
    for i in range(n_fit, n):
        if labels[i] is None:
            continue
        mates = {j for j, l in enumerate(labels) if l == labels[i] and j != i and S1[i, j] < DUPLICATE_THRESHOLD}
        p5.append(precision_at_k(lists[i], mates, 5))
        rec.append(recall_at_k(lists[i], mates, 10))
    return {"p5": mean_over_queries(p5), "recall10": mean_over_queries(rec)}


# =============================================================================== cost
def neighbour_profiles(X: sp.csr_matrix, m: int, block: int = 256) -> tuple[sp.csr_matrix, np.ndarray]:
    """Fit-time precompute of the anchored view at scale: for every row its raw top-``m`` cosines to the
    other rows (``Q``, CSR) and its m-th cosine (``t``: what a newcomer must beat to enter the row's top m).
    Blocked ``X[b] @ X.T`` as in batch precompute; memory bounded by ``block * n`` floats."""
    n = X.shape[0]
    XT = sp.csr_matrix(X.T)
    indptr = np.arange(0, n * m + 1, m)
    indices = np.empty(n * m, np.int32)
    data = np.empty(n * m, np.float32)
    t = np.empty(n, np.float32)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        S = (X[lo:hi] @ XT).toarray()
        S[np.arange(hi - lo), np.arange(lo, hi)] = -1.0
        cols = np.argpartition(-S, m - 1, axis=1)[:, :m]
        vals = np.take_along_axis(S, cols, axis=1)
        indices[lo * m:hi * m] = cols.ravel()
        data[lo * m:hi * m] = np.maximum(vals, 0).ravel()
        t[lo:hi] = vals.min(axis=1)
    Q = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    Q.eliminate_zeros()
    Q.sort_indices()
    return Q, t


def cost(n: int, m: int = 50, queries: int = 200, seed: int = 3) -> dict:
    """Time a single related() query, first-order vs anchored, on a synthetic corpus of ``n`` articles
    vectorised by the library's own TextVectorizer (the production matrix shape), plus the fit-time
    precompute and the per-article work of ``add_articles`` keeping profiles exact."""
    from recommender._vectorize import TextVectorizer

    arts = list(generate_articles(n, seed=seed))
    started = time.perf_counter()
    X = TextVectorizer().fit_transform([a["title"] for a in arts], [a["body"] for a in arts])
    vectorise = time.perf_counter() - started
    index = CosineIndex(X)
    started = time.perf_counter()
    if sp_matmul_topn is not None:  # C++ top-n sparse product, 2 threads
        Q = sp_matmul_topn(X, sp.csr_matrix(X.T), top_n=m + 1, n_threads=2)
        Q.setdiag(0)
        Q.eliminate_zeros()
        Q = sp.csr_matrix(Q)
        Q.sort_indices()
        t = np.array([Q.data[a:b].min() if b > a else 0.0 for a, b in zip(Q.indptr[:-1], Q.indptr[1:])], np.float32)
        how = "sparse_dot_topn, 2 threads"
    else:
        Q, t = neighbour_profiles(X, m)
        how = "blocked X[b] @ X.T + argpartition, 1 thread"
    precompute = time.perf_counter() - started
    QT = sp.csr_matrix(Q.T)
    norms = np.sqrt(1.0 + np.asarray(Q.multiply(Q).sum(axis=1)).ravel()).astype(np.float32)
    rng = np.random.default_rng(seed)
    picks = rng.choice(n, size=min(queries, n), replace=False)

    def first(r: int) -> np.ndarray:
        return top_rows(index.scores(X[r]), 10)

    def anchored(r: int) -> np.ndarray:
        s = index.scores(X[r])
        q = Q[r]
        second = q @ QT
        s[second.indices] += second.data
        s /= norms[r] * norms
        return top_rows(s, 10)

    def new_text(r: int) -> np.ndarray:  # related_to_text / a just-added article: profile from its own scores
        s = index.scores(X[r])
        s[r] = 0
        top = np.argpartition(-s, m - 1)[:m]
        top = top[s[top] > t[top]]  # newcomer rule: keep a neighbour only if the newcomer enters its top m
        q = sp.csr_matrix((s[top], (np.zeros(len(top), int), top)), shape=(1, n))
        second = q @ QT
        norm = math.sqrt(1.0 + float(np.dot(s[top], s[top])))
        s[second.indices] += second.data
        s /= norm * norms
        entering = np.flatnonzero(s > t)  # rows whose top m the newcomer enters (for add_articles upkeep)
        return top_rows(s, 10), entering

    timings = {}
    for name, fn in (("first", first), ("anchored", anchored), ("new_text", new_text)):
        for r in picks[:10]:
            fn(int(r))
        started = time.perf_counter()
        for r in picks:
            fn(int(r))
        timings[name] = (time.perf_counter() - started) / len(picks)
    entering = []
    for r in picks:
        s = index.scores(X[int(r)])
        s[int(r)] = 0
        entering.append(int(np.count_nonzero(s > t)))
    started = time.perf_counter()
    Q2 = sp.csr_matrix(Q, copy=True)
    sp.csr_matrix(Q2.T)
    rebuild = time.perf_counter() - started
    return {"n": n, "precompute_how": how, "nnz_X": X.nnz, "nnz_Q": Q.nnz, "vectorise_s": vectorise, "precompute_s": precompute,
            "first_ms": timings["first"] * 1e3, "anchored_ms": timings["anchored"] * 1e3,
            "new_text_ms": timings["new_text"] * 1e3, "entering_mean": float(np.mean(entering)),
            "rebuild_Q_s": rebuild, "Q_MiB": (Q.data.nbytes + Q.indices.nbytes + Q.indptr.nbytes) * 2 / 2**20}


# =============================================================================== the table
W = Weighting
STEM = Analysis(stem=True)
PROPER = Analysis(proper=2.0)
SP = Weighting(Analysis(stem=True, proper=2.0))
SPB = Weighting(Analysis(stem=True, proper=2.0, bigrams=True))
RECOMMENDED = Method("SP + anchored second-order m=50", SP, view="anchored", m=50)

METHODS = [
    Method("baseline: library defaults (sublinear TF-IDF)"),
    Method("Snowball stemming", W(STEM)),
    Method("word bigrams (df >= 2)", W(Analysis(bigrams=True))),
    Method("proper nouns x2", W(PROPER)),
    Method("BM25 tf (k1=1.2, b=0.75)", W(tf="bm25")),
    Method("SP = stemming + proper nouns x2", SP),
    Method("SP + bigrams", SPB),
    Method("second-order, all concepts", view="second"),
    Method("second-order, top m=50", view="second", m=50),
    Method("0.5 first + 0.5 second (m=50)", view="blend2", m=50, w=0.5),
    Method("LSA k=200 alone", view="lsa", k=200, w=0.0),
    Method("0.5 first + 0.5 LSA k=200", view="lsa", k=200, w=0.5),
    Method("co-occurrence expansion (PRF r=5, beta=1)", view="prf", r=5, beta=1.0),
    Method("anchored m=50 (no SP)", view="anchored", m=50),
    Method("SP + second-order m=50", SP, view="second", m=50),
    RECOMMENDED,
    Method("SP + anchored m=50, mutual neighbours only", SP, view="anchored", m=50, mutual=True),
    Method("SP + anchored m=50, neighbours cos >= 0.1", SP, view="anchored", m=50, floor=0.1),
    Method("sqrt(baseline cosine) [Pearson only]", transform="sqrt"),
    Method("sqrt(recommended) [Pearson only]", SP, view="anchored", m=50, transform="sqrt"),
]
SENSITIVITY = [  # computed after the choice, to show how much the Lee figure depends on it
    Method("recommended with m=25", SP, view="anchored", m=25),
    Method("recommended with m=100", SP, view="anchored", m=100),
    Method("recommended with anchor=2", SP, view="anchored", m=50, anchor=2.0),
]
INCREMENTAL = [Method("baseline"), Method("SP first-order", SP), RECOMMENDED]


def _fmt(x: float) -> str:
    return "  -  " if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="synthetic 2k instead of 3k/6k; cost at 10k only")
    parser.add_argument("--no-cost", action="store_true", help="skip the speed section")
    parser.add_argument("--synthetic", type=int, default=3000, help="synthetic corpus size for the main table")
    args = parser.parse_args(argv)
    n_syn = 2000 if args.quick else args.synthetic
    corpora = [sample_corpus(), sample_corpus(short=True), newsgroups_corpus()]
    syn = synthetic_corpus(n_syn)
    if syn is not None:
        corpora.append(syn)

    def table(methods: Sequence[Method], title: str) -> None:
        print(f"\n## {title}\n")
        head = "| method | Lee r | Lee rho | sample P@5 | sample nDCG@10 | short P@5 | short nDCG@10 | NG P@5 | NG nDCG@10 |"
        if syn is not None:
            head += f" {syn.name} P@5 | {syn.name} R@10 |"
        print(head)
        print("|" + " --- |" * (head.count("|") - 1))
        for method in methods:
            started = time.perf_counter()
            lee = lee_scores(method)
            cells = [_fmt(lee["pearson"]), _fmt(lee["spearman"])]
            for corpus in corpora:
                if method.transform != "none":  # a monotone transform changes no list
                    cells += ["same", "same"]
                    continue
                s = label_scores(method, corpus)
                cells += [_fmt(s["p5"]), _fmt(s["ndcg10"] if corpus is not syn else s["recall10"])]
            print(f"| {method.name} | " + " | ".join(cells) + " |", flush=True)
            print(f"    ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    print("# Relevance experiments (issue 6)")
    print("\nLee: Pearson / Spearman with the human means (library protocol). Label sets: Related lists built as")
    print("related() builds them (self and first-order near-duplicates >= 0.8 excluded), P@5, nDCG@10 or recall@10.")
    table(METHODS, "Methods (constants chosen on sample-short, NG and synthetic; Lee reported once each)")
    table(SENSITIVITY, "Sensitivity of the recommended method (post hoc; not used to choose)")

    if syn is not None:
        inc = synthetic_corpus(2000 if args.quick else 6000)
        print(f"\n## Incremental: fit on the first share of {inc.name} (chronological), add the rest without refit\n")
        print("Scores of the *added* articles' Related lists (their stories mostly began after the fit, with names")
        print("the fitted vocabulary has never seen). P@5 / recall@10.\n")
        print("| method | upkeep | fit 100% (all at fit time) | fit 50%, add 50% | fit 90%, add 10% |")
        print("| --- | --- | --- | --- | --- |")
        for method in INCREMENTAL:
            upkeeps = ["-"] if method.view == "first" else ["frozen", "grow", "mutual"]
            full = label_scores(method, inc)
            for upkeep in upkeeps:
                cells = [f"{_fmt(full['p5'])} / {_fmt(full['recall10'])}"]
                for share in (0.5, 0.9):
                    s = incremental_scores(method, inc, share, upkeep)
                    cells.append(f"{_fmt(s['p5'])} / {_fmt(s['recall10'])}")
                print(f"| {method.name} | {upkeep} | " + " | ".join(cells) + " |", flush=True)

    if not args.no_cost and generate_articles is not None:
        print("\n## Cost of the anchored view (synthetic corpus, library TextVectorizer, m=50)\n")
        print("| n | nnz(X) | nnz(Q) | Q + Q.T MiB | vectorise s | precompute Q s | how | first-order query ms |"
              " anchored query ms | ratio | new-text query ms | ratio | rows a newcomer enters | rebuild Q, Q.T s |")
        print("| --- " * 14 + "|")
        for n in ((10000,) if args.quick else (10000, 100000)):
            c = cost(n)
            print(f"| {c['n']:,} | {c['nnz_X']:,} | {c['nnz_Q']:,} | {c['Q_MiB']:.1f} | {c['vectorise_s']:.1f} | "
                  f"{c['precompute_s']:.1f} | {c['precompute_how']} | {c['first_ms']:.2f} | {c['anchored_ms']:.2f} | "
                  f"{c['anchored_ms'] / c['first_ms']:.2f}x | {c['new_text_ms']:.2f} | {c['new_text_ms'] / c['first_ms']:.2f}x | "
                  f"{c['entering_mean']:.1f} | {c['rebuild_Q_s']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
