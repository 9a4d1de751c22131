"""``related()`` latency on a saved model against the single-row peers, in one process, without a fit.

    python benchmarks/bench_related_model.py --model M --queries 300 --repeats 3
    valgrind --tool=callgrind --instr-atstart=no python benchmarks/bench_related_model.py --model M --queries 100 --seed 1 --callgrind

``M`` is a model saved with ``Recommender.save`` (for example a 100k synthetic archive:
``Recommender(n_jobs=2).fit(generate_articles(100_000, seed=0)).save(M)``). On the model's
own TF-IDF matrix ``X`` the script times, per query article, the library's ``related(id, k=10)``
(default filters, near-duplicate removal, story tier, explanations, rendered fields), the same
call with the date prior off when the model's prior is on, and the
peers' "10 most similar rows" of ``bench_related.py``: sparse_dot_topn ``sp_matmul_topn(X[q],
X.T (CSR), top_n=11)``, gensim ``SparseMatrixSimilarity`` and scikit-learn
``NearestNeighbors(metric="cosine", algorithm="brute")``. It prints each method's median
latency (median over queries, then over repeats, methods alternating in order) and the ratio
to ``related()``. The slow peers run on the first ``--peer-queries`` of the sample.
Skipping the fit is what makes it usable on a busy machine: ``bench_related.py`` fits the
archive first (minutes at 100k), and times more methods.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

import numpy as np

from recommender import Recommender

K = 10


def methods(rec: Recommender, model_path: str) -> dict:
    """name -> query(row); peers that are not installed are left out."""
    ids = rec.article_ids
    X = rec.index_.vectors
    XT = X.T.tocsr()
    found = {"ours: Recommender.related": lambda q: rec.related(ids[q], k=K)}
    if rec.time_scale_days_ is not None:  # the same model with its date prior off, its pages shared
        text_only = Recommender.load(model_path, mmap=True).set_params(time_scale_days=None)
        found["ours: Recommender.related, date prior off (time_scale_days=None)"] = \
            lambda q: text_only.related(ids[q], k=K)
    try:
        from sparse_dot_topn import sp_matmul_topn
        found["sparse_dot_topn: sp_matmul_topn"] = lambda q: sp_matmul_topn(X[q], XT, top_n=K + 1, sort=True)
    except ImportError:
        pass
    try:
        from gensim.similarities import SparseMatrixSimilarity
        index = SparseMatrixSimilarity(None, num_features=X.shape[1], num_best=K + 1)
        index.index = X  # what it builds from a normalised corpus
        found["gensim: SparseMatrixSimilarity"] = lambda q: index[X[q]]
    except ImportError:
        pass
    from sklearn.neighbors import NearestNeighbors
    nn = NearestNeighbors(n_neighbors=K + 1, metric="cosine", algorithm="brute").fit(X)
    found["sklearn: NearestNeighbors(cosine, brute)"] = lambda q: nn.kneighbors(X[q], return_distance=False)
    return found


def count_instructions(rec: Recommender, sample: list[int]) -> None:
    """Switch callgrind's collection on around the ``related()`` calls of ``sample``."""
    ids = rec.article_ids
    for q in sample[:30]:
        rec.related(ids[q], k=K)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
    for q in sample:
        rec.related(ids[q], k=K)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--peer-queries", type=int, default=50, help="queries for gensim and scikit-learn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--callgrind", action="store_true",
                        help="under valgrind --tool=callgrind --instr-atstart=no: count the instructions of the "
                             "related() calls only (30 warm-up calls first), no peers, no timing")
    args = parser.parse_args()
    rec = Recommender.load(args.model)
    n = len(rec.article_ids)
    sample = np.random.default_rng(args.seed).choice(n, min(args.queries, n), replace=False).tolist()
    if args.callgrind:
        count_instructions(rec, sample)
        return
    queries = methods(rec, args.model)
    fast = ("ours", "sparse_dot_topn")
    for query in queries.values():  # warm-up: caches, lazy imports
        for q in sample[:3]:
            query(q)
    medians: dict[str, list[float]] = {name: [] for name in queries}
    for repeat in range(args.repeats):
        for name in (list(queries) if repeat % 2 == 0 else list(queries)[::-1]):
            times = []
            for q in sample if name.startswith(fast) else sample[:args.peer_queries]:
                start = time.perf_counter_ns()
                queries[name](q)
                times.append(time.perf_counter_ns() - start)
            medians[name].append(statistics.median(times) / 1e6)
    ours = statistics.median(medians["ours: Recommender.related"])
    print(f"{n:,} articles, {len(sample)} queries ({args.peer_queries} for gensim and scikit-learn), "
          f"median of {args.repeats} repeats\n")
    print("| method | median ms | runs (ms) | times slower than related() |\n| --- | ---: | --- | ---: |")
    for name, values in medians.items():
        value = statistics.median(values)
        print(f"| {name} | {value:.3f} | {', '.join(f'{v:.3f}' for v in values)} | {value / ours:.1f}× |")


if __name__ == "__main__":
    main()
