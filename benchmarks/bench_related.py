"""Related-list speed: our index and list builder against scipy, scikit-learn, gensim and sparse_dot_topn.

One process, one synthetic corpus per size, one TF-IDF matrix (vectorised once, by
``Recommender().fit``, which runs :class:`recommender._vectorize.TextVectorizer`: float32,
unit-length rows); every method answers "the 10 most similar other articles" on that
same matrix. See ``benchmarks/README.md`` for what each number means.

    python benchmarks/bench_related.py --sizes 10000 100000 --queries 500 --repeats 5 --json out.json
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import ctypes
import dataclasses
import gc
import io
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from importlib import metadata

import numpy as np
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from recommender import Recommender
from recommender._index import CosineIndex, top_rows
from recommender.evaluation.synthetic import generate_articles

try:
    from gensim.similarities import SparseMatrixSimilarity
except ImportError:  # optional peer
    SparseMatrixSimilarity = None
try:
    from sparse_dot_topn import sp_matmul_topn
except ImportError:  # optional peer
    sp_matmul_topn = None

K = 10
OURS, OURS_BATCH = "ours: CosineIndex.scores + top_rows", "ours-batch-prototype (blocked X[b] @ X.T)"


# ---------------------------------------------------------------------------- peak memory
class PeakRSS:
    """Peak resident memory above the level at entry, in MiB (Linux ``VmHWM`` reset through ``clear_refs``).

    Counts everything the process touches while inside (numpy buffers, C++ allocations of
    compiled peers, thread stacks); freed heap is returned to the OS first (``malloc_trim``)
    so earlier methods do not hide the cost of later ones. Falls back to ``ru_maxrss``, which
    only shows growth beyond the process's earlier peak, where ``clear_refs`` is not writable.
    """

    method = "VmHWM-reset"

    def __enter__(self) -> PeakRSS:
        gc.collect()
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            pass
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
        except OSError:
            PeakRSS.method = "ru_maxrss"
        self.base = self._rss()
        return self

    def __exit__(self, *exc) -> None:
        self.mb = max(0.0, (self._peak() - self.base) / 1024)

    @staticmethod
    def _status(field: str) -> int:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def _rss(self) -> int:
        if self.method == "ru_maxrss":
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self._status("VmRSS")

    def _peak(self) -> int:
        if self.method == "ru_maxrss":
            return self._rss()
        return self._status("VmHWM")


# ---------------------------------------------------------------------------- methods
def _best(scores: np.ndarray, exclude: int, k: int = K) -> np.ndarray:
    """Top-k rows of a dense score vector, ``exclude`` left out, best first (ties by row)."""
    scores[exclude] = -np.inf
    part = np.argpartition(scores, -k)[-k:]
    part = part[scores[part] > 0]
    return part[np.lexsort((part, -scores[part]))]


def _drop(rows: np.ndarray, exclude: int, k: int = K) -> np.ndarray:
    return rows[rows != exclude][:k]


def single_query_methods(X, XT, rec, row_of_id, ids):
    """name -> (build seconds, query(row) -> ndarray of rows best first)."""
    methods = {}
    t = time.perf_counter()
    index = CosineIndex(X)
    build = time.perf_counter() - t

    def ours(q):
        scores = index.scores(index.row_vector(q))
        scores[q] = -np.inf
        rows = top_rows(scores, K)
        return rows[np.lexsort((rows, -scores[rows]))][:K]

    methods[OURS] = (build, ours)
    methods["ours: Recommender.related (filters, dedup, explanations)"] = (
        0.0, lambda q: np.array([row_of_id[h.article_id] for h in rec.related(ids[q], k=K)], dtype=np.int64))
    methods["ours: Recommender.related(same_section=True) (a filtered list; recall against the unfiltered top 10)"] = (
        0.0, lambda q: np.array([row_of_id[h.article_id] for h in rec.related(ids[q], k=K, same_section=True)],
                                dtype=np.int64))
    if rec.profiles_ is not None:  # the same model scored by TF-IDF cosine alone: the cost of the anchored score
        plain = copy.copy(rec)
        plain._state = dataclasses.replace(rec._state, profiles=None)
        methods["ours: Recommender.related, TF-IDF cosine only (neighbours=0)"] = (
            0.0, lambda q: np.array([row_of_id[h.article_id] for h in plain.related(ids[q], k=K)], dtype=np.int64))
    methods["scipy: X[q] @ X.T (naive, as written)"] = (0.0, lambda q: _best((X[q] @ X.T).toarray().ravel(), q))
    methods["scipy: X[q] @ XT, XT = X.T.tocsr() once"] = (build, lambda q: _best((X[q] @ XT).toarray().ravel(), q))
    methods["scipy: X @ x, dense query vector"] = (0.0, lambda q: _best(X @ X[q].toarray().ravel(), q))
    t = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=K + 1, metric="cosine", algorithm="brute").fit(X)
    methods["sklearn: NearestNeighbors(cosine, brute)"] = (
        time.perf_counter() - t, lambda q: _drop(nn.kneighbors(X[q], return_distance=False)[0], q))
    if SparseMatrixSimilarity is not None:
        t = time.perf_counter()
        gensim_index = SparseMatrixSimilarity(None, num_features=X.shape[1], num_best=K + 1)
        gensim_index.index = X  # what it builds from a normalised corpus; skips the Python-level corpus walk
        methods["gensim: SparseMatrixSimilarity"] = (
            time.perf_counter() - t, lambda q: _drop(np.array([d for d, _ in gensim_index[X[q]]], dtype=np.int64), q))
    if sp_matmul_topn is not None:
        methods["sparse_dot_topn: sp_matmul_topn"] = (
            build, lambda q: _drop(_topn_rows(sp_matmul_topn(X[q], XT, top_n=K + 1, sort=True))[0], q))
    return methods


def _topn_rows(C: sp.csr_matrix) -> list[np.ndarray]:
    return [C.indices[C.indptr[i]:C.indptr[i + 1]].astype(np.int64) for i in range(C.shape[0])]


def ours_batch(X, XT, rows, *, block=256, threads=2):
    """Top-K for each of ``rows``: blocked ``X[rows] @ X.T`` made dense, argpartition per row."""
    out = np.full((len(rows), K), -1, dtype=np.int64)

    def work(start):
        these = rows[start:start + block]
        scores = (X[these] @ XT).toarray()
        scores[np.arange(len(these)), these] = -np.inf
        part = np.argpartition(scores, -K, axis=1)[:, -K:]
        best = np.take_along_axis(scores, part, 1)
        order = np.lexsort((part, -best), axis=1)
        out[start:start + len(these)] = np.where(np.take_along_axis(best, order, 1) > 0, np.take_along_axis(part, order, 1), -1)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(0, len(rows), block)))
    return out


def batch_methods(X, XT, threads):
    """name -> run(rows) -> list of ndarray (neighbour rows of each query row, self included or not)."""
    methods = {OURS_BATCH: lambda rows: ours_batch(X, XT, rows, threads=threads)}
    if sp_matmul_topn is not None:
        methods[f"sparse_dot_topn: sp_matmul_topn, {threads} threads"] = (
            lambda rows: _topn_rows(sp_matmul_topn(X[rows], XT, top_n=K + 1, sort=True, n_threads=threads)))
    nn = NearestNeighbors(n_neighbors=K + 1, metric="cosine", algorithm="brute", n_jobs=threads).fit(X)
    methods[f"sklearn: kneighbors, n_jobs={threads}"] = lambda rows: nn.kneighbors(X[rows], return_distance=False)
    if SparseMatrixSimilarity is not None:
        gensim_index = SparseMatrixSimilarity(None, num_features=X.shape[1], num_best=K + 1)
        gensim_index.index = X

        def gensim_batch(rows):
            found = []
            for start in range(0, len(rows), gensim_index.chunksize):
                found.extend(np.array([d for d, _ in sims], dtype=np.int64)
                             for sims in gensim_index[X[rows[start:start + gensim_index.chunksize]]])
            return found

        methods["gensim: SparseMatrixSimilarity (1 thread)"] = gensim_batch
    return methods


# ---------------------------------------------------------------------------- quality
class Truth:
    """Exact top-K (float64) of the sampled query rows, and their same-story mates."""

    def __init__(self, X, sample, stories):
        self.X64 = X.astype(np.float64)
        XT64 = self.X64.T.tocsr()
        self.kth = {}
        for q in sample.tolist():
            scores = (self.X64[q] @ XT64).toarray().ravel()
            scores[q] = 0.0
            positive = scores[scores > 0]
            wanted = min(K, positive.size)
            self.kth[q] = (np.partition(positive, -wanted)[-wanted] - 1e-5 if wanted else np.inf, wanted)
        members = defaultdict(set)
        for row, story in enumerate(stories):
            if story is not None:
                members[story].add(row)
        self.mates = {q: members[stories[q]] - {q} for q in sample.tolist() if stories[q] is not None}

    @staticmethod
    def _top(rows, q) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return rows[(rows >= 0) & (rows != q)][:K]

    def recall(self, found: dict[int, np.ndarray]) -> float:
        """Share of the exact top-K reached: a found row counts when its true score ties or beats the K-th."""
        values = []
        for q, rows in found.items():
            threshold, wanted = self.kth[q]
            if wanted:
                rows = self._top(rows, q)
                true = (self.X64[rows] @ self.X64[q].T).toarray().ravel()
                values.append(np.count_nonzero(true >= threshold) / wanted)
        return float(np.mean(values)) if values else float("nan")

    def story_recall(self, found: dict[int, np.ndarray]) -> float:
        """Share of same-story articles in the list (of at most K), over sampled articles in a story."""
        values = [len(set(self._top(found[q], q).tolist()) & mates) / min(K, len(mates))
                  for q, mates in self.mates.items() if q in found]
        return float(np.mean(values)) if values else float("nan")


# ---------------------------------------------------------------------------- runs
def run_single(methods, sample, repeats, budget, truth):
    """Per method: median over repeats of the median and p99 single-query latency (ms)."""
    stats = {name: {"median_ms": [], "p99_ms": [], "mean_ms": [], "peak_mb": [], "queries": 0} for name in methods}
    found = {name: {} for name in methods}
    for name, (_, query) in methods.items():
        for q in sample[:5].tolist():  # warm-up: caches, lazy imports
            query(q)
    for repeat in range(repeats):
        order = list(methods) if repeat % 2 == 0 else list(methods)[::-1]  # alternate order against drift
        for name in order:
            query = methods[name][1]
            times = []
            started = time.perf_counter()
            with PeakRSS() as peak:
                for q in sample.tolist():
                    t0 = time.perf_counter_ns()
                    rows = query(q)
                    times.append(time.perf_counter_ns() - t0)
                    found[name][q] = rows
                    if time.perf_counter() - started > budget and len(times) >= 50:
                        break
            ms = np.array(times) / 1e6
            entry = stats[name]
            entry["median_ms"].append(float(np.median(ms)))
            entry["p99_ms"].append(float(np.percentile(ms, 99)))
            entry["mean_ms"].append(float(ms.mean()))
            entry["peak_mb"].append(peak.mb)
            entry["queries"] = max(entry["queries"], len(times))
    results = {}
    for name, entry in stats.items():
        mean_ms = float(np.median(entry["mean_ms"]))
        results[name] = {
            "median_ms": float(np.median(entry["median_ms"])),
            "p99_ms": float(np.median(entry["p99_ms"])),
            "queries_per_s": 1000.0 / mean_ms,
            "peak_mb": float(max(entry["peak_mb"])),
            "recall": truth.recall(found[name]),
            "story_recall": truth.story_recall(found[name]),
            "queries": entry["queries"],
            "build_s": methods[name][0],
            "runs_median_ms": entry["median_ms"],
        }
    return results


def run_batch(methods, rows, repeats, truth):
    """Per method: queries/s (median over repeats), peak memory, recall on the sampled rows."""
    results = {}
    position = {int(r): i for i, r in enumerate(rows.tolist())}
    for name, run in methods.items():
        seconds, peaks = [], []
        for _ in range(repeats):
            with PeakRSS() as peak:
                t0 = time.perf_counter()
                found = run(rows)
                seconds.append(time.perf_counter() - t0)
            peaks.append(peak.mb)
        sampled = {q: np.asarray(found[position[q]]) for q in truth.kth if q in position}
        median = float(np.median(seconds))
        results[name] = {
            "seconds": median,
            "runs_s": seconds,
            "median_ms": 1000.0 * median / len(rows),
            "p99_ms": None,
            "queries_per_s": len(rows) / median,
            "peak_mb": float(max(peaks)),
            "recall": truth.recall(sampled),
            "story_recall": truth.story_recall(sampled),
            "queries": int(len(rows)),
        }
        del found
    return results


def profile_related(rec, ids, sample, top=15):
    """cProfile of ``Recommender.related`` over the sampled queries: costliest functions by own time, then ours by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for q in sample.tolist():
        rec.related(ids[q], k=K)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(r"recommender/", top)
    return out.getvalue()


def bench_size(n, args):
    report = {"n": n}
    t = time.perf_counter()
    articles = list(generate_articles(n, seed=args.seed))
    report["generate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rec = Recommender(n_jobs=args.threads).fit(articles)
    report["fit_s"] = time.perf_counter() - t
    X = rec.index_.vectors  # TextVectorizer output: float32, unit rows, sorted indices
    XT = X.T.tocsr()
    stories = [a["story"] for a in articles]
    ids = [a["id"] for a in articles]
    del articles
    row_of_id = {article_id: row for row, article_id in enumerate(ids)}
    report.update(n_terms=X.shape[1], nnz=int(X.nnz), nnz_per_row=X.nnz / n, dtype=str(X.dtype))
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(n, size=min(args.queries, n), replace=False)
    truth = Truth(X, sample, stories)
    log(f"n={n}: generated in {report['generate_s']:.1f}s, fitted in {report['fit_s']:.1f}s, {X.shape[1]} terms")
    report["single"] = run_single(single_query_methods(X, XT, rec, row_of_id, ids), sample, args.repeats, args.budget, truth)
    log(f"n={n}: single-query runs done")
    batch_n = n if not args.batch_queries else min(n, args.batch_queries)
    others = np.setdiff1d(np.arange(n), sample)
    rows = np.sort(np.concatenate([sample, rng.choice(others, size=max(0, batch_n - sample.size), replace=False)]))[:max(batch_n, 1)]
    report["batch_queries"] = int(rows.size)
    report["batch"] = run_batch(batch_methods(X, XT, args.threads), rows, args.batch_repeats, truth)
    if args.profile:
        report["profile_related"] = profile_related(rec, ids, sample)
    return report


# ---------------------------------------------------------------------------- output
def table(report) -> str:
    lines = [
        f"### n = {report['n']:,} articles ({report['n_terms']:,} terms, {report['nnz_per_row']:.0f} non-zeros per row); "
        f"batch over {report['batch_queries']:,} query rows",
        "",
        "| method | mode | median ms | p99 ms | ratio vs ours | queries/s | peak MB | recall@10 | story recall@10 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, ours in (("single", OURS), ("batch", OURS_BATCH)):
        base = report[mode][ours]["median_ms"]
        for name, r in report[mode].items():
            p99 = f"{r['p99_ms']:.2f}" if r["p99_ms"] is not None else "–"
            note = f" ({r['queries']} q)" if mode == "single" and r["queries"] < max(x["queries"] for x in report[mode].values()) else ""
            lines.append(
                f"| {name}{note} | {mode} | {r['median_ms']:.3f} | {p99} | {r['median_ms'] / base:.2f} | "
                f"{r['queries_per_s']:,.0f} | {r['peak_mb']:.0f} | {r['recall']:.3f} | {r['story_recall']:.3f} |"
            )
    return "\n".join(lines)


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    versions = {}
    for package in ("numpy", "scipy", "scikit-learn", "gensim", "sparse_dot_topn", "recommender"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        commit = subprocess.run(["git", "-C", here, "describe", "--always", "--dirty"], capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "git": commit,
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "memory_method": PeakRSS.method,
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--queries", type=int, default=500, help="sampled query articles for single-query latency and recall")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of every single-query run")
    parser.add_argument("--batch-repeats", type=int, default=2)
    parser.add_argument("--batch-queries", type=int, default=10_000,
                        help="query rows of the batch runs: every article up to this many (0: every article)")
    parser.add_argument("--threads", type=int, default=2, help="threads of the batch runs")
    parser.add_argument("--budget", type=float, default=2.0,
                        help="seconds per method and repeat after which a slow single-query method stops (50 queries at least)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="also cProfile Recommender.related over the sample")
    parser.add_argument("--json", help="write every number here")
    args = parser.parse_args(argv)
    results = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        "machine": machine(),
        "k": K,
        "sizes": [],
    }
    for n in args.sizes:
        report = bench_size(n, args)
        results["sizes"].append(report)
        print(table(report), "\n", flush=True)
        if args.profile:
            print("cProfile of Recommender.related:\n" + report["profile_related"], flush=True)
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(results, handle, indent=1)
    results["machine"]["memory_method"] = PeakRSS.method
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
