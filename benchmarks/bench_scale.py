"""One archive at full size (1M articles): fit, save, load, single queries and the batch path.

    python benchmarks/generate_corpus.py 1000000 artifacts/c1m.jsonl --seed 0
    python benchmarks/bench_scale.py artifacts/c1m.jsonl --workdir artifacts/scale --json scale.json

The whole-archive exact jobs (the fit-time neighbour-profile search and the precompute of
every list) grow with n², so at 1M articles they take hours on a 2-core machine. This
script measures them on a random sample of rows *of the full archive*: every sampled row is
multiplied against all n articles, so the rate per row is the real 1M rate, and the whole job
is that rate times n (printed as an estimate, with the same sample run by sparse_dot_topn
for the ratio). The fit's search, which scores each pair once, cannot run on a sample of rows:
it runs on the first ``--pairs-rows`` articles, and its time is scaled by ``(n / rows) ** 2``. Everything else (fit of the TF-IDF model, save, mmap load, resident and
proportional memory, single-query latency) is measured whole.

The model is fitted with ``neighbours=0`` (plain TF-IDF cosine: no profiles, since their
all-pairs search is the quadratic job being estimated).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

from recommender import Recommender, _topm_kernel
from recommender._profile_search import search_kernel


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _int32(matrix):
    """A writable in-memory copy with int32 index arrays (sparse_dot_topn takes neither mapped
    read-only arrays nor mixed index types)."""
    import scipy.sparse as sp

    return sp.csr_matrix((np.array(matrix.data), np.array(matrix.indices, dtype=np.int32),
                          np.array(matrix.indptr, dtype=np.int32)), shape=matrix.shape)


def _directory_mb(path: str) -> float:
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names) / 2**20


_LOADED = """
import sys, time, resource
from recommender import Recommender
start = time.perf_counter()
rec = Recommender.load(sys.argv[1], mmap=True, verify=False)
loaded = time.perf_counter() - start
rec.related(rec.article_ids[0], k=10)
with open("/proc/self/smaps_rollup") as smaps:
    fields = {line.split(":")[0]: line.split()[1] for line in smaps if ":" in line}
print(loaded, int(fields["Pss"]) / 1024, int(fields["Private_Dirty"]) / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", help="articles JSONL written by generate_corpus.py")
    parser.add_argument("--workdir", required=True, help="where the model is saved")
    parser.add_argument("--sample", type=int, default=2000, help="rows sampled for the quadratic jobs")
    parser.add_argument("--queries", type=int, default=200, help="single related() queries timed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs-rows", type=int, default=100_000,
                        help="time the fit's search (each pair once) on this many first articles and scale by n^2 "
                             "(0: skip)")
    parser.add_argument("--reuse", action="store_true",
                        help="use the model an earlier run saved in --workdir (fit and save are not re-measured)")
    parser.add_argument("--json", help="write every number here")
    args = parser.parse_args()
    result: dict[str, float | int] = {}
    model = os.path.join(args.workdir, "model")

    if not args.reuse:
        start = time.perf_counter()
        rec = Recommender(neighbours=0).fit(args.articles)
        result["fit_s"] = time.perf_counter() - start
        result["fit_peak_rss_mb"] = _peak_mb()
        print(f"fit {len(rec.article_ids):,} articles: {result['fit_s']:.0f} s, "
              f"peak RSS {result['fit_peak_rss_mb']:,.0f} MB", flush=True)
        start = time.perf_counter()
        rec.save(model)
        result["save_s"] = time.perf_counter() - start
        result["artifact_mb"] = _directory_mb(os.path.join(model, "current"))
        print(f"save {result['save_s']:.0f} s ({result['artifact_mb']:,.0f} MB)", flush=True)
        del rec
    loaded, pss, private = map(float, subprocess.check_output([sys.executable, "-c", _LOADED, model], text=True).split())
    result.update(load_mmap_s=loaded, loaded_pss_mb=pss, loaded_private_dirty_mb=private)
    print(f"mmap load {loaded:.1f} s; after one query {pss:,.0f} MB PSS, of which {private:,.0f} MB "
          "private to the process (the rest: mapped files, the model and shared libraries, which processes share)", flush=True)

    rec = Recommender.load(model, mmap=True, verify=False)
    n = len(rec.article_ids)
    vectors = rec.index_.vectors
    result.update(articles=n, terms=vectors.shape[1], nnz=vectors.nnz,
                  csr_mb=(vectors.data.nbytes + vectors.indices.nbytes + vectors.indptr.nbytes) / 2**20)
    rng = np.random.default_rng(0)
    ids = rec.article_ids
    queries = [ids[i] for i in rng.choice(n, args.queries, replace=False)]
    from sparse_dot_topn import sp_matmul_topn

    index = rec.index_
    postings = _int32(index.postings)
    timings: dict[str, list[float]] = {"related()": [], "sparse_dot_topn, one row": []}
    for article_id in queries:
        row = rec._fitted().catalog.rows([article_id])[0]
        start = time.perf_counter()
        rec.related(article_id, k=10)
        timings["related()"].append(time.perf_counter() - start)
        start = time.perf_counter()
        sp_matmul_topn(_int32(index.select(np.array([row]))), postings, top_n=11, n_threads=1)
        timings["sparse_dot_topn, one row"].append(time.perf_counter() - start)
    for name, values in timings.items():
        result[f"{name} median ms"] = statistics.median(values) * 1e3
        result[f"{name} p99 ms"] = float(np.quantile(values, 0.99)) * 1e3
        print(f"{name}: median {result[f'{name} median ms']:.1f} ms, p99 {result[f'{name} p99 ms']:.1f} ms", flush=True)

    sample = np.sort(rng.choice(n, args.sample, replace=False))
    sample_ids = [ids[i] for i in sample]
    block = _int32(index.select(sample))
    start = time.perf_counter()
    sp_matmul_topn(block, postings, top_n=11, n_threads=args.threads)
    topn = args.sample / (time.perf_counter() - start)
    start = time.perf_counter()
    sp_matmul_topn(block, postings, top_n=51, n_threads=args.threads)
    profile_rate = args.sample / (time.perf_counter() - start)
    compiled_rate = pairs_estimate = None
    if _topm_kernel.AVAILABLE:  # the per-row compiled kernel (numba); the same rows against all n
        from recommender._topm_kernel import top_m_rows

        archive = _int32(index.vectors)  # the kernel searches a run of the archive's own rows against all n
        first = int(rng.integers(0, n - args.sample + 1))
        top_m_rows(archive, postings, first, first + 8, 51)  # compile
        start = time.perf_counter()
        top_m_rows(archive, postings, first, first + args.sample, 51, args.threads)
        compiled_rate = args.sample / (time.perf_counter() - start)
    if search_kernel(n) == "pairs" and args.pairs_rows:  # the fit's search here: every pair of a prefix
        from recommender._pairs_kernel import top_m_pairs

        prefix = _int32(index.vectors[:args.pairs_rows])
        start = time.perf_counter()
        top_m_pairs(prefix, _int32(prefix.T.tocsr()), 50, args.threads)
        seconds = time.perf_counter() - start
        pairs_estimate = seconds * (n / prefix.shape[0]) ** 2 / 3600
        result.update({"pairs search of the prefix s": seconds, "pairs search estimate h": pairs_estimate})
    start = time.perf_counter()
    rec.related_batch(sample_ids, k=10)
    ours = args.sample / (time.perf_counter() - start)
    result.update({"batch sparse_dot_topn top-11 articles/s": topn, "batch related_batch articles/s (1 process)": ours,
                   "profile search top-51 articles/s": profile_rate,
                   "profile search, compiled kernel, articles/s": compiled_rate,
                   "whole-archive batch estimate h (sparse_dot_topn)": n / topn / 3600,
                   "whole-archive batch estimate h (ours, 1 process)": n / ours / 3600,
                   "profile search estimate h": n / profile_rate / 3600,
                   "peak_rss_mb": _peak_mb()})
    print(f"batch on {args.sample:,} sampled rows against all {n:,}: sparse_dot_topn top-11 ({args.threads} threads) "
          f"{topn:,.1f}/s, related_batch (1 process) {ours:,.1f}/s; profile search top-51 {profile_rate:,.1f}/s "
          f"-> whole archive {n / topn / 3600:.1f} h / {n / ours / 3600:.1f} h / {n / profile_rate / 3600:.1f} h", flush=True)
    if compiled_rate:
        print(f"profile search with the per-row compiled kernel (numba): {compiled_rate:,.1f}/s "
              f"-> whole archive {n / compiled_rate / 3600:.1f} h", flush=True)
    if pairs_estimate:
        print(f"the fit's search (each pair once) over the first {args.pairs_rows:,} articles: "
              f"{result['pairs search of the prefix s']:.0f} s -> whole archive x (n / rows)^2 = {pairs_estimate:.2f} h",
              flush=True)
    print(f"peak RSS of this process {result['peak_rss_mb']:,.0f} MB")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
