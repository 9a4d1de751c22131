"""Incremental additions: add_articles cost against a full refit, and memory of a loaded model.

    python benchmarks/bench_incremental.py --articles 100000 --added 20

Fits N synthetic articles, then adds articles one at a time (each call is a new article
arriving from the CMS) and reports the median time of one add_articles call, the refit
time, and their ratio; then saves the model and reports the loaded model's resident memory
against the size of its CSR matrix, and the resident memory of 4 processes that load it
with mmap=True against one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from recommender import Recommender
from recommender.evaluation.synthetic import generate_articles

CHILD = """
import sys, time
from recommender import Recommender
rec = Recommender.load(sys.argv[1], mmap=True, verify=False)
rec.related(rec.article_ids[0])
print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0], flush=True)
time.sleep(3)
"""


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        fields = dict(line.split(":", 1) for line in handle if ":" in line)
    return int(fields["Pss"].split()[0]) / 1024  # proportional: shared pages split between sharers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--added", type=int, default=20)
    parser.add_argument("--json")
    args = parser.parse_args()
    articles = list(generate_articles(args.articles + args.added, seed=7))
    base, extra = articles[: args.articles], articles[args.articles:]
    start = time.perf_counter()
    rec = Recommender().fit(base)
    refit = time.perf_counter() - start
    adds = []
    for article in extra:
        start = time.perf_counter()
        rec.add_articles([article])
        adds.append(time.perf_counter() - start)
    add = statistics.median(adds)
    print(f"{args.articles:,} articles: refit {refit:.1f} s; add_articles of one article: median {add * 1e3:.2f} ms "
          f"over {args.added}; ratio {refit / add:,.0f}x", flush=True)
    nnz = rec.index_.vectors.nnz
    csr_mb = (rec.index_.vectors.data.nbytes + rec.index_.vectors.indices.nbytes + rec.index_.vectors.indptr.nbytes) / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        rec.save(os.path.join(tmp, "m"))
        children = [subprocess.Popen([sys.executable, "-c", CHILD, os.path.join(tmp, "m")], stdout=subprocess.PIPE, text=True)
                    for _ in range(4)]
        for child in children:
            child.stdout.readline()
        pss = [rss_mb(child.pid) for child in children]
        for child in children:
            child.wait()
        solo = subprocess.Popen([sys.executable, "-c", CHILD, os.path.join(tmp, "m")], stdout=subprocess.PIPE, text=True)
        solo.stdout.readline()
        solo_pss = rss_mb(solo.pid)
        solo.wait()
    result = {"articles": args.articles, "refit_s": refit, "add_one_median_ms": add * 1e3, "ratio": refit / add,
              "nnz": nnz, "csr_mb": csr_mb, "pss_one_process_mb": solo_pss, "pss_four_processes_mb": sum(pss)}
    print(f"CSR matrix {csr_mb:,.0f} MB; one serving process (mmap) {solo_pss:,.0f} MB PSS; "
          f"four processes {sum(pss):,.0f} MB PSS in total")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
