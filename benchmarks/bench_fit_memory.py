"""Where a fit's memory goes: resident memory after each step, and each step's peak.

    python benchmarks/generate_corpus.py 300000 c300k.jsonl --seed 0
    python benchmarks/bench_fit_memory.py c300k.jsonl --n-jobs 2

Runs ``Recommender(n_jobs=N).fit(path)`` (articles read from the file as they come) with the
process's resident memory (``VmRSS``) sampled every 0.1 s, and marks the steps of
``recommender._fit.fit_state``: the TF-IDF step (ending where the index is built), the index
(the matrix's transpose), the neighbour search, the rest. Prints, for each step, the resident
memory when it ends and the highest sample during it, then the wall time and ``ru_maxrss``
(the peak the kernel counted, between samples too).
"""

from __future__ import annotations

import argparse
import resource
import threading
import time

import recommender._fit as fit_module
from recommender import Recommender


def resident_gb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1e6
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


class Steps:
    """Resident memory sampled in a thread; :meth:`end` closes a step at its current value."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []
        self._high = resident_gb()
        self._lock = threading.Lock()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            now = resident_gb()
            with self._lock:
                self._high = max(self._high, now)
            time.sleep(0.1)

    def end(self, step: str) -> None:
        now = resident_gb()
        with self._lock:
            self.rows.append((step, now, max(self._high, now)))
            self._high = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", help="articles JSONL (generate_corpus.py)")
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    steps = Steps()
    index_class, search = fit_module.CosineIndex, fit_module._neighbour_profiles

    def index(vectors):
        steps.end("read, TF-IDF, catalogue")
        built = index_class(vectors)
        steps.end("index (the transpose)")
        return built

    def profiles(*arguments):
        found = search(*arguments)
        steps.end("neighbour search")
        return found

    fit_module.CosineIndex, fit_module._neighbour_profiles = index, profiles
    start = time.perf_counter()
    Recommender(n_jobs=args.n_jobs).fit(args.articles)
    seconds = time.perf_counter() - start
    steps.end("time locality, state")
    print(f"{'step':<28}{'RSS at its end':>16}{'peak in it':>12}")
    for step, end, high in steps.rows:
        print(f"{step:<28}{end:>13.2f} GB{high:>9.2f} GB")
    print(f"fit {seconds:.0f} s, ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB")


if __name__ == "__main__":
    main()
