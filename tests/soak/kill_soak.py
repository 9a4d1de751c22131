"""Soak tests for the model store, longer than CI runs (pytest does not collect this file).

``kill`` (default): a writer process saves models A and B alternately to one model
directory and is killed with SIGKILL at a random moment, again and again, while reader
processes load the model in a loop. Every load, by a reader during the writes or by this
script after each kill, must give exactly the lists of A or of B::

    python tests/soak/kill_soak.py kill --trials 500 --readers 2
    python tests/soak/kill_soak.py kill --trials 200 --articles 5000   # bigger files, longer writes
    python tests/soak/kill_soak.py kill --trials 50 --fresh            # a new interpreter per writer

``verify-cost``: fit a synthetic model and time ``Recommender.load`` with and without
checksum verification, with and without memory mapping (warm page cache, best of 3)::

    python tests/soak/kill_soak.py verify-cost --articles 50000

Exit status 1 on any failure. Results are quoted in ``docs/reliability.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
os.environ.update({key: ENV[key] for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})

from recommender import Recommender, load_articles, load_reactions, store  # noqa: E402
from recommender.datasets import sample_articles_path, sample_reactions_path  # noqa: E402

SIGNATURE = textwrap.dedent(
    """
    def signature(rec, now, sample=None):
        ids = rec.article_ids
        chosen = ids if sample is None else ids[:sample]
        hits = lambda found: [[h.article_id, h.score] for h in found]
        return {"ids": ids, "related": {i: hits(rec.related(i, k=5)) for i in chosen},
                "ranking": hits(rec.ranking(k=8, now=now))}

    def which(sig, expected):
        for name, full in expected.items():
            if sig["ids"] == full["ids"] and sig["ranking"] == full["ranking"] and all(
                    found == full["related"][i] for i, found in sig["related"].items()):
                return name
        return None
    """
)
_shared: dict = {}
exec(SIGNATURE, _shared)  # the same code runs in the reader processes
signature, which = _shared["signature"], _shared["which"]

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for tests.*
from tests.test_reliability import WRITER_SERVER  # noqa: E402 - the same fork server as the CI test

FRESH_WRITER = textwrap.dedent(
    """
    import random, sys
    from recommender import Recommender
    models = [Recommender.load(sys.argv[1]), Recommender.load(sys.argv[2])]
    print("ready", flush=True)
    turn = random.randrange(2)
    while True:
        models[turn % 2].save(sys.argv[3])
        turn += 1
    """
)

READER = SIGNATURE + textwrap.dedent(
    """
    import json, os, random, sys, traceback
    from datetime import datetime
    from recommender import Recommender
    path, expected_file, stop_file = sys.argv[1:4]
    expected = json.loads(open(expected_file).read())
    now = datetime.fromisoformat(expected.pop("now"))
    loads = 0
    try:
        while not os.path.exists(stop_file):
            rec = Recommender.load(path, mmap=random.random() < 0.5, verify=random.random() < 0.8)
            if which(signature(rec, now, sample=10), expected) is None:
                print(json.dumps({"loads": loads, "error": "a load that is neither A nor B"}), flush=True)
                sys.exit(1)
            loads += 1
    except Exception:
        print(json.dumps({"loads": loads, "error": traceback.format_exc()}), flush=True)
        sys.exit(1)
    print(json.dumps({"loads": loads, "error": None}), flush=True)
    """
)


def models(n_articles: int):
    """Two models with different contents, and the fixed ``now`` their lists use."""
    if n_articles:
        from recommender.evaluation.synthetic import generate_articles

        first = list(generate_articles(n_articles, seed=1))
        second = list(generate_articles(n_articles, seed=2))
        now = max(datetime.fromisoformat(a["published_at"]) for a in first + second)
        return Recommender().fit(first), Recommender().fit(second), now + timedelta(hours=1)
    corpus = load_articles(sample_articles_path())
    reactions = load_reactions(sample_reactions_path())
    now = max(a.published_at for a in corpus) + timedelta(hours=1)
    return (Recommender().fit(corpus[:55], reactions=reactions),
            Recommender(title_weight=3.0).fit(corpus[25:], reactions=reactions), now)


def leftovers(path: Path) -> set[str]:
    staging = {p.name for p in (path / "versions").iterdir() if p.name.startswith(store.STAGING_PREFIX)}
    return staging | {p.name for p in path.iterdir() if p.name.startswith(f".{store.CURRENT}.")}


def kill_soak(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="kill-soak-"))
    a, b, now = models(args.articles)
    a.save(work / "a")
    b.save(work / "b")
    expected = {"a": signature(a, now), "b": signature(b, now)}
    sample = None if len(a.article_ids) <= 500 else 200  # Related lists checked after each kill
    assert expected["a"] != expected["b"]
    (work / "expected.json").write_text(json.dumps({**expected, "now": now.isoformat()}))
    path, stop = work / "m", work / "stop"
    a.save(path)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        a.save(path)
        timings.append(time.perf_counter() - started)
    save_seconds = sorted(timings)[1]
    print(f"work dir {work}; {len(a.article_ids)} articles; one save takes {save_seconds * 1000:.0f} ms", flush=True)

    readers = [subprocess.Popen([sys.executable, "-c", READER, str(path), str(work / "expected.json"), str(stop)],
                                stdout=subprocess.PIPE, text=True, env=ENV) for _ in range(args.readers)]
    server = None
    if not args.fresh:
        server = subprocess.Popen([sys.executable, "-c", WRITER_SERVER, str(work / "a"), str(work / "b")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV)
        assert server.stdout.readline().strip() == "ready"
    rng = random.Random(args.seed)
    seen, mid_publish, failures, pid = {"a": 0, "b": 0}, 0, [], None
    begun = time.perf_counter()
    try:
        for trial in range(1, args.trials + 1):
            before = leftovers(path)
            if server is not None:
                server.stdin.write(f"spawn {path}\n")
                server.stdin.flush()
                pid, writer = int(server.stdout.readline()), None
            else:
                writer = subprocess.Popen([sys.executable, "-c", FRESH_WRITER, str(work / "a"), str(work / "b"), str(path)],
                                          stdout=subprocess.PIPE, text=True, env=ENV)
                assert writer.stdout.readline().strip() == "ready"
                pid = writer.pid
            time.sleep(rng.uniform(0, 5 * save_seconds))  # kills in and between saves
            os.kill(pid, signal.SIGKILL)
            if server is not None:
                server.stdin.write(f"reap {pid}\n")
                server.stdin.flush()
                status = int(server.stdout.readline())
                killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
            else:
                status = writer.wait()
                killed = status == -signal.SIGKILL
            pid = None
            if not killed:
                failures.append(f"trial {trial}: the writer ended by itself (status {status})")
                break
            mid_publish += bool(leftovers(path) - before)
            try:
                name = which(signature(Recommender.load(path), now, sample), expected)
            except Exception as error:  # noqa: BLE001 - a failure to report
                name, error_text = None, f"{type(error).__name__}: {error}"
            else:
                error_text = "neither A nor B"
            if name is None:
                failures.append(f"trial {trial}: {error_text}")
                break
            seen[name] += 1
            if trial % 50 == 0:
                print(f"  {trial} trials, {time.perf_counter() - begun:.0f} s", flush=True)
    finally:
        if pid is not None:  # interrupted: stop the running writer too
            os.kill(pid, signal.SIGKILL)
        if server is not None:
            server.kill()
            server.communicate()
        stop.touch()
        reports = [json.loads(reader.communicate(timeout=300)[0].strip().splitlines()[-1]) for reader in readers]
    reader_loads = sum(report["loads"] for report in reports)
    failures += [report["error"] for report in reports if report["error"]]
    a.save(path)  # a last clean save after all the kills
    final_ok = which(signature(Recommender.load(path), now, sample), expected) == "a"
    trials = seen["a"] + seen["b"]
    print(f"kills survived: {trials}/{args.trials} (A {seen['a']}, B {seen['b']}); killed mid-publish: {mid_publish}; "
          f"reader loads during the writes: {reader_loads} by {args.readers} processes; "
          f"leftovers after the last save: {len(leftovers(path))} (younger than {store.STALE_AFTER:.0f} s); "
          f"final save {'ok' if final_ok else 'FAILED'}; {time.perf_counter() - begun:.0f} s")
    for failure in failures:
        print("FAILURE:", failure)
    if failures or not final_ok or trials < args.trials:
        print(f"kept {work} for inspection")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


def verify_cost(args: argparse.Namespace) -> int:
    from recommender.evaluation.synthetic import generate_articles

    work = Path(tempfile.mkdtemp(prefix="verify-cost-"))
    started = time.perf_counter()
    rec = Recommender().fit(generate_articles(args.articles, seed=0))
    fitted = time.perf_counter() - started
    rec.save(work / "m")
    version = store.resolve(work / "m")
    size = sum(p.stat().st_size for p in version.iterdir())
    hashed = min(_timed(lambda: [store._sha256(p) for p in version.iterdir()]) for _ in range(3))
    print(f"{args.articles} articles (fit {fitted:.0f} s), model {size / 1e6:.0f} MB in {len(list(version.iterdir()))} files; "
          f"SHA-256 of every file: {hashed * 1000:.0f} ms ({size / hashed / 1e9:.2f} GB/s)\n")
    print("| load | verify=True | verify=False | verification share |")
    print("| --- | --- | --- | --- |")
    for mmap in (False, True):
        times = {verify: min(_timed(lambda: Recommender.load(work / "m", mmap=mmap, verify=verify)) for _ in range(3))
                 for verify in (True, False)}
        share = (times[True] - times[False]) / times[True]
        print(f"| mmap={mmap} | {times[True] * 1000:.0f} ms | {times[False] * 1000:.0f} ms | {share:.0%} |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    kill = commands.add_parser("kill", help="SIGKILL a writer at random moments")
    kill.add_argument("--trials", type=int, default=300)
    kill.add_argument("--readers", type=int, default=2, help="reader processes loading during the writes")
    kill.add_argument("--articles", type=int, default=0, help="synthetic articles per model (0: the sample corpus)")
    kill.add_argument("--fresh", action="store_true", help="start a new interpreter for every writer (slower)")
    kill.add_argument("--seed", type=int, default=0)
    cost = commands.add_parser("verify-cost", help="time loads with and without checksum verification")
    cost.add_argument("--articles", type=int, default=50_000)
    args = parser.parse_args(sys.argv[1:] or ["kill"])
    return kill_soak(args) if args.command == "kill" else verify_cost(args)


if __name__ == "__main__":
    sys.exit(main())
