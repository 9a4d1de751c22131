"""The whole job at full size: ``recommender build`` then ``recommender precompute``, timed end to end.

    python benchmarks/generate_corpus.py 300000 c300k.jsonl --seed 0
    python benchmarks/bench_end_to_end.py c300k.jsonl --workdir e2e300 --json e2e300.json
    python benchmarks/bench_end_to_end.py c1m.jsonl --workdir e2e1m --sdt-rows 20000

Each step runs as its own process (``--n-jobs`` workers), as a site would run it. For each
the script reports the wall time, the peak RSS of the step's main process (``wait4``) and the
peak of the memory its whole process tree holds (the sum of every process's PSS, sampled each
second: pages that workers share, such as a mapped model, count once).

Then, on ``--sample`` random articles of the built model, it checks the lists:

* the precomputed Related lists equal ``related()``;
* ``related()`` (the default score, served from the neighbour profiles) equals the list of
  the full sparse product (``strategy="full"``): the same ids in the same order (recall@10 is
  printed too);
* ``related()`` median and p99 latency.

The peer is sparse_dot_topn's exact all-pairs top-11 (plain TF-IDF cosine) on ``--threads``
threads, in the same run: over the whole archive, or with ``--sdt-rows R`` over R random rows
against all n articles, its time scaled by ``n / R`` (at 1M the whole job takes hours).
``--skip-sdt`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from recommender import Recommender


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    frontier.extend(int(child) for child in children.read().split())
        except OSError:  # it ended meanwhile
            continue
    return found


def _pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_step(name: str, command: list[str]) -> dict[str, float]:
    """Run ``command``; its wall time, its main process's peak RSS and its tree's peak PSS sum."""
    print(f"$ {' '.join(command)}", flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            peak[0] = max(peak[0], sum(_pss_mb(pid) for pid in _tree(process.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    wall = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"{name} failed with exit code {process.returncode}")
    figures = {f"{name}_s": wall, f"{name}_peak_rss_mb": usage.ru_maxrss / 1024, f"{name}_peak_tree_pss_mb": peak[0]}
    print(f"{name}: {wall:,.0f} s, peak RSS {usage.ru_maxrss / 1024:,.0f} MB (main process), "
          f"{peak[0]:,.0f} MB (process tree, PSS)", flush=True)
    return figures


def check_lists(model: str, database: str, sample: int, k: int) -> dict[str, float]:
    """Sampled rows: precomputed == related() == the full product's list; related() latency."""
    served = Recommender.load(model, mmap=True)
    full = Recommender.load(model, mmap=True).set_params(strategy="full")
    ids = served.article_ids
    rng = np.random.default_rng(0)
    chosen = [ids[i] for i in rng.choice(len(ids), min(sample, len(ids)), replace=False)]
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        stored = {article_id: [row[0] for row in connection.execute(
            "SELECT item_id FROM lists WHERE list = 'related' AND article_id = ? ORDER BY rank", (article_id,))]
            for article_id in chosen}
    latencies, same_full, same_stored, recalls = [], 0, 0, []
    for article_id in chosen:
        start = time.perf_counter()
        hits = [hit.article_id for hit in served.related(article_id, k=k)]
        latencies.append(time.perf_counter() - start)
        exact = [hit.article_id for hit in full.related(article_id, k=k)]
        same_full += hits == exact
        same_stored += hits == stored[article_id]
        recalls.append(len(set(hits) & set(exact)) / len(exact) if exact else 1.0)
    n = len(chosen)
    figures = {"checked_rows": n, "equal_to_full_share": same_full / n, "equal_to_precomputed_share": same_stored / n,
               "recall_at_k": float(np.mean(recalls)), "related_median_ms": statistics.median(latencies) * 1e3,
               "related_p99_ms": float(np.quantile(latencies, 0.99)) * 1e3}
    print(f"{n} sampled articles: related() equals the full product's list for {same_full}/{n} "
          f"(recall@{k} {figures['recall_at_k']:.4f}), the precomputed list for {same_stored}/{n}; "
          f"related() median {figures['related_median_ms']:.2f} ms, p99 {figures['related_p99_ms']:.2f} ms", flush=True)
    return figures


def sparse_dot_topn_all_pairs(model: str, rows: int | None, threads: int) -> dict[str, float]:
    """sparse_dot_topn's exact top-11 of every article (or of ``rows`` random ones, scaled to all)."""
    import scipy.sparse as sp
    from sparse_dot_topn import sp_matmul_topn

    vectors = Recommender.load(model, mmap=True).index_.vectors
    matrix = sp.csr_matrix((np.array(vectors.data), np.array(vectors.indices, dtype=np.int32),
                            np.array(vectors.indptr, dtype=np.int32)), shape=vectors.shape)
    postings = sp.csr_matrix(matrix.T)
    n = matrix.shape[0]
    block = matrix
    if rows is not None and rows < n:
        block = matrix[np.sort(np.random.default_rng(1).choice(n, rows, replace=False))]
    start = time.perf_counter()
    sp_matmul_topn(block, postings, top_n=11, n_threads=threads)
    seconds = (time.perf_counter() - start) * n / block.shape[0]
    measured = "whole archive" if block.shape[0] == n else f"{block.shape[0]:,} rows, scaled to {n:,}"
    print(f"sparse_dot_topn exact all-pairs top-11 on {threads} threads: {seconds:,.1f} s ({measured})", flush=True)
    return {"sparse_dot_topn_s": seconds, "sparse_dot_topn_rows": block.shape[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", help="articles JSONL (generate_corpus.py)")
    parser.add_argument("--workdir", required=True, help="where the model and the lists are written")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="sparse_dot_topn's threads")
    parser.add_argument("--sample", type=int, default=200, help="articles whose lists are checked")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--sdt-rows", type=int, help="time sparse_dot_topn on this many rows, scaled to all")
    parser.add_argument("--skip-sdt", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the model and lists an earlier run wrote")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    model, database = str(workdir / "model"), str(workdir / "related.sqlite")
    cli = [sys.executable, "-m", "recommender"]
    figures: dict[str, float] = {}
    if not args.reuse:
        figures |= run_step("build", [*cli, "build", args.articles, "--out", model, "--n-jobs", str(args.n_jobs)])
        figures |= run_step("precompute", [*cli, "precompute", "--model", model, "--out", database,
                                           "-k", str(args.k), "--n-jobs", str(args.n_jobs)])
        figures["end_to_end_s"] = figures["build_s"] + figures["precompute_s"]
        print(f"end to end: {figures['end_to_end_s']:,.0f} s", flush=True)
    figures |= check_lists(model, database, args.sample, args.k)
    if not args.skip_sdt:
        figures |= sparse_dot_topn_all_pairs(model, args.sdt_rows, args.threads)
        if "end_to_end_s" in figures:
            print(f"build + precompute / sparse_dot_topn: {figures['end_to_end_s'] / figures['sparse_dot_topn_s']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
