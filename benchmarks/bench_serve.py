"""Page requests per second through ``recommender serve`` over loopback.

    python benchmarks/bench_serve.py --model DIR --now 2026-11-28T23:00:00Z \
        [--workers 2] [--connections 16] [--seconds 20]
    python benchmarks/bench_serve.py --articles 20000 --seconds 20    # fits a synthetic model first

Starts ``recommender serve --workers N`` on 127.0.0.1 (a free port), waits for ``/health``,
then keeps ``--connections`` keep-alive HTTP/1.1 connections busy with
``GET /articles/{id}/page?history=a,b,c&now=...`` (random articles, 3-item histories) for
``--seconds``, and prints requests per second, latency median and p99, and failures. The
client is one asyncio process; its own CPU share is printed too, since on a small machine it
competes with the server for cores. ``--client wrk`` drives the same requests with ``wrk``
(a compiled load generator, Debian's ``wrk`` package: one thread, a Lua script cycling
through the paths), which takes far less of the machine from the server. So is the CPU time
the server's processes spent per request (with ``psutil``, the ``[bench]`` extra): unlike
requests per second, it stays meaningful on a machine shared with other jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _client(port: int, paths: list[str], stop_at: float, latencies: list[float], failures: list[int],
                  rng: random.Random) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            path = rng.choice(paths)
            start = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1000)
            if status_line.split()[1] != b"200":
                failures.append(int(status_line.split()[1]))
    finally:
        writer.close()


async def _drive(port: int, paths: list[str], connections: int, seconds: float, seed: int):
    latencies: list[float] = []
    failures: list[int] = []
    stop_at = time.perf_counter() + seconds
    await asyncio.gather(*(_client(port, paths, stop_at, latencies, failures, random.Random(seed + i))
                           for i in range(connections)))
    return latencies, failures


def _wrk(port: int, paths: list[str], connections: int, seconds: float, directory: str):
    """Requests per second, median and p99 latency (ms) and failed requests, measured by ``wrk``."""
    script = Path(directory) / "paths.lua"
    listed = ",\n".join(json.dumps(path) for path in paths)  # JSON strings are valid Lua strings here
    script.write_text(f"local paths = {{\n{listed}\n}}\nlocal next = 0\n"
                      "request = function()\n  next = next % #paths + 1\n"
                      "  return wrk.format(\"GET\", paths[next])\nend\n")
    run = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True)
    out = run.stdout

    def milliseconds(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), int(re.search(r"(\d+) requests in", out).group(1)),
            milliseconds("50%"), milliseconds("99%"),
            (int(failed.group(1)) if failed else 0) + (sum(map(int, errors.groups())) if errors else 0))


def _server_cpu(pid: int) -> float | None:
    """CPU seconds used so far by the server process ``pid`` and its workers (``None`` without psutil)."""
    try:
        import psutil
    except ImportError:
        return None
    total = 0.0
    try:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            times = process.cpu_times()
            total += times.user + times.system
    except psutil.Error:
        return None
    return total


def _synthetic_model(n: int, directory: str, seed: int) -> str:
    from recommender import Recommender, load_reactions
    from recommender.evaluation.synthetic import generate_articles, generate_reactions

    from bench_page import site_clock

    articles = list(generate_articles(n, seed=seed))
    now, reactions = site_clock(articles, load_reactions(list(generate_reactions(articles, seed=seed))))
    Recommender(n_jobs=2).fit(articles, reactions=reactions, now=now).save(directory)
    return now.isoformat()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved model directory (else --articles fits a synthetic one)")
    parser.add_argument("--now", help="the site clock of every request (ISO 8601 with zone)")
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--client", choices=("python", "wrk"), default="python",
                        help="the load generator (wrk: Debian's wrk package, far lighter)")
    args = parser.parse_args()
    if args.client == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("--client wrk needs the wrk program (Debian: apt-get install wrk)")

    from recommender import Recommender

    scratch = tempfile.TemporaryDirectory()
    model_dir, now = args.model, args.now
    if model_dir is None:
        model_dir = str(Path(scratch.name) / "model")
        now = _synthetic_model(args.articles, model_dir, args.seed)
    ids = Recommender.load(model_dir, mmap=True).article_ids
    rng = random.Random(args.seed)
    when = "" if now is None else "&now=" + urllib.request.quote(now)
    paths = [f"/articles/{urllib.request.quote(rng.choice(ids))}/page?history="
             + ",".join(urllib.request.quote(rng.choice(ids)) for _ in range(3)) + when for _ in range(2000)]

    port = _free_port()
    log = open(Path(scratch.name) / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--model", model_dir, "--port", str(port),
         "--workers", str(args.workers)], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
        asyncio.run(_drive(port, paths, args.connections, min(3.0, args.seconds), args.seed))  # warm up
        cpu, server_before = time.process_time(), _server_cpu(server.pid)
        if args.client == "wrk":
            rate, n_requests, median, p99, failed = _wrk(port, paths, args.connections, args.seconds, scratch.name)
            client_cpu = None
        else:
            latencies, failures = asyncio.run(_drive(port, paths, args.connections, args.seconds, args.seed + 1))
            client_cpu = (time.process_time() - cpu) / args.seconds
            n_requests, failed = len(latencies), len(failures)
            rate, median, p99 = n_requests / args.seconds, statistics.median(latencies), float(np.percentile(latencies, 99))
        server_after = _server_cpu(server.pid)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    figures = {"workers": args.workers, "connections": args.connections, "seconds": args.seconds, "client": args.client,
               "requests": n_requests, "requests_per_second": rate, "median_ms": median, "p99_ms": p99,
               "failed": failed, "client_cpu_share": client_cpu, "articles": len(ids),
               "server_cpu_ms_per_request": None if server_before is None or server_after is None or not n_requests
               else (server_after - server_before) * 1000 / n_requests}
    print(f"{len(ids):,} articles, {args.workers} workers, {args.connections} connections, {args.seconds:.0f} s")
    print(f"  {rate:.0f} page requests/s, median {median:.1f} ms, p99 {p99:.1f} ms, {failed} failed"
          + ("" if client_cpu is None else f"; the client used {client_cpu:.0%} of a core") + f" ({args.client} client)")
    if figures["server_cpu_ms_per_request"] is not None:
        print(f"  server CPU {figures['server_cpu_ms_per_request']:.2f} ms per request (all its processes)")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=1)
    scratch.cleanup()


if __name__ == "__main__":
    main()
