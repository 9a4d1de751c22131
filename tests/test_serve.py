"""`recommender serve`: a real server on 127.0.0.1 with two workers, driven over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from recommender import Recommender, load_reactions  # noqa: E402
from recommender import _serve as serve_module  # noqa: E402
from recommender.cli import main  # noqa: E402
from recommender.datasets import SAMPLE_NOW, sample_reactions_path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token"
START_SECONDS = 90  # bound on the server's start
WAIT_SECONDS = 30  # bound on an update reaching every worker
STOP_WAIT_SECONDS = 30  # bound on the workers stopping once their supervisor is killed
LOAD_SECONDS = 60  # bound on the load run across a publish
LOAD_MAX_REQUESTS = 3000  # bound on its requests
LOAD_CONNECTIONS = 6
EVERY_WORKER = 20  # consecutive answers that must agree before every worker counts as updated
SPREAD_CONNECTIONS = 24  # all on one of two workers by chance: 2 ** -23
NOW = SAMPLE_NOW.isoformat().replace("+00:00", "Z")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base: str, method: str, path: str, body=None, token: str | None = TOKEN) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server(sample_articles, tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "model"
    model = Recommender().fit(sample_articles, reactions=load_reactions(sample_reactions_path()), now=SAMPLE_NOW)
    model.save(path)
    port = _free_port()
    log = open(path.parent / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--model", str(path), "--port", str(port), "--workers", "2",
         "--token", TOKEN, "--staleness", "0.2"],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    try:
        while True:
            try:
                if call(base, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start: " + (path.parent / "server.log").read_text())
            time.sleep(0.2)
        yield base, model, path.parent / "server.log"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
        log.close()


def test_lists_over_http(server):
    base, model, _ = server
    article = model.article_ids[0]
    assert call(base, "GET", "/health")[1]["articles"] == len(model.article_ids)
    status, body = call(base, "GET", f"/articles/{article}/related?k=3")
    assert status == 200
    assert body["items"] == [{"id": hit.article_id, **{k: v for k, v in hit.to_dict().items() if k != "article_id"}}
                             for hit in model.related(article, k=3)]
    assert {"id", "title", "url", "section", "published_at", "score", "explanation"} <= set(body["items"][0])
    status, body = call(base, "GET", f"/ranking?k=4&now={NOW}")
    assert status == 200 and [item["id"] for item in body["items"]] == [h.article_id for h in model.ranking(4, now=SAMPLE_NOW)]
    status, body = call(base, "GET", f"/ranking?k=4&mode=trending&section=world&now={NOW}")
    assert status == 200
    history = model.article_ids[5:7]
    expected = [h.article_id for h in model.recommend(article, history=history, k=5, now=SAMPLE_NOW)]
    status, body = call(base, "GET", f"/articles/{article}/recommend?history={','.join(history)}&k=5&now={NOW}")
    assert status == 200 and [item["id"] for item in body["items"]] == expected
    status, body = call(base, "POST", f"/articles/{article}/recommend?k=5&now={NOW}", {"history": history})
    assert status == 200 and [item["id"] for item in body["items"]] == expected
    status, body = call(base, "GET", f"/articles/{article}/page?history={history[0]}&now={NOW}")
    page = model.page(article, history=history[:1], now=SAMPLE_NOW)
    assert status == 200 and set(body) == {"related", "ranking", "recommendation"}
    assert [item["id"] for item in body["recommendation"]] == [h.article_id for h in page.recommendation]


def test_errors_are_json(server):
    base, model, log = server
    assert call(base, "GET", "/articles/no-such-id/related") == (404, {"error": "unknown article id 'no-such-id'"})
    status, body = call(base, "GET", f"/articles/{model.article_ids[0]}/related?k=zero")
    assert status == 400 and "k must be an integer" in body["error"]
    status, body = call(base, "GET", "/ranking?k=100000")
    assert status == 400 and "between 1 and 100" in body["error"]
    status, body = call(base, "GET", "/ranking?mode=sideways")
    assert status == 400 and "mode" in body["error"]
    status, body = call(base, "GET", "/nowhere")
    assert status == 404 and "error" in body
    status, body = call(base, "POST", "/reactions", {"not": "a list"})
    assert status == 400 and "array" in body["error"]
    status, body = call(base, "POST", "/reactions", [{"article_id": "a001", "reaction": "good", "at": "2099-01-01T00:00:00Z"}])
    assert status == 400 and "future" in body["error"]
    status, body = call(base, "POST", "/reactions", [{"article_id": "a001", "reaction": "good", "count": 1},
                                                     {"article_id": "a002", "reaction": "good", "count": -5}])
    assert status == 400 and body["error"].startswith("record 2") and "negative" in body["error"]
    assert call(base, "POST", "/reactions", [], token=None)[0] == 401
    assert call(base, "POST", "/reactions", [], token="wrong")[0] == 401
    for path in ("/ranking/", f"/articles/{model.article_ids[0]}/related/"):  # no bare redirect
        status, body = call(base, "GET", path)
        assert status == 404 and "no endpoint" in body["error"]
    assert call(base, "DELETE", "/articles/")[0] == 404
    article = model.article_ids[0]
    status, body = call(base, "GET", f"/articles/{article}/related?same_section=maybe")
    assert status == 400 and "same_section must be true or false" in body["error"]
    for value in ("", "false", "0", "TRUE"):
        assert call(base, "GET", f"/articles/{article}/related?same_section={value}")[0] == 200
    status, body = call(base, "POST", "/articles", [])  # nothing to add: an answer, not an error
    assert status == 200 and isinstance(body["position"], int)
    assert "Traceback" not in log.read_text()


def test_a_client_gone_mid_body_leaves_no_traceback(server):
    base, _, log = server
    host, port = base.removeprefix("http://").split(":")
    answered = log.read_text().count("POST /reactions 400")
    with socket.create_connection((host, int(port)), timeout=30) as client:
        client.sendall(f"POST /reactions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
                       "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{".encode())
        time.sleep(0.2)
    deadline = time.monotonic() + WAIT_SECONDS
    while log.read_text().count("POST /reactions 400") == answered and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log.read_text().count("POST /reactions 400") > answered and "Traceback" not in log.read_text()


def test_a_body_above_the_limit_is_refused_before_it_is_read(server):
    base, _, _ = server
    host, port = base.removeprefix("http://").split(":")
    for declared, sent in ((serve_module.MAX_BODY_BYTES + 1, b"[]"),  # refused on its declared length
                           (None, b"[" + b" " * serve_module.MAX_BODY_BYTES + b"]")):  # chunked: as it arrives
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            connection.putrequest("POST", "/reactions")
            connection.putheader("Authorization", f"Bearer {TOKEN}")
            connection.putheader("Content-Type", "application/json")
            if declared is not None:
                connection.putheader("Content-Length", str(declared))
            else:
                connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            try:
                if declared is not None:
                    connection.send(sent)
                else:
                    for start in range(0, len(sent), 1 << 20):
                        piece = sent[start:start + (1 << 20)]
                        connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                    connection.send(b"0\r\n\r\n")
            except OSError:  # the server may answer and close before the whole body is sent
                pass
            response = connection.getresponse()
            assert response.status == 400 and "above the limit" in json.loads(response.read())["error"]
        finally:
            connection.close()


def test_updates_reach_every_worker(server):
    base, model, log = server
    article = {"id": "served-1", "title": "Aldermere festival adds a night screening",
               "body": "The Aldermere film festival adds a late screening of The Salt Orchard.",
               "published_at": "2026-11-28T20:00:00+00:00", "section": "entertainment"}
    status, body = call(base, "POST", "/articles", [article])
    assert status == 200 and body["position"] >= 1
    reactions = [{"article_id": "served-1", "reaction": "good", "count": 500, "at": "2026-11-28T22:00:00+00:00"}]
    assert call(base, "POST", f"/reactions?now={NOW}", reactions)[0] == 200
    deadline = time.monotonic() + WAIT_SECONDS
    answers = []
    while time.monotonic() < deadline:  # requests spread over both workers: each must know it
        answers.append(call(base, "GET", f"/ranking?k=1&now={NOW}")[1]["items"][0]["id"])
        if answers[-20:] == ["served-1"] * 20:
            break
        time.sleep(0.05)
    assert answers[-20:] == ["served-1"] * 20
    _until_every_worker(lambda: call(base, "GET", "/articles/served-1/related?k=2")[0], 200)
    assert call(base, "DELETE", "/articles/served-1")[0] == 200
    deadline = time.monotonic() + WAIT_SECONDS
    statuses = []
    while time.monotonic() < deadline:  # every worker must have folded the removal, not just the first to answer
        statuses.append(call(base, "GET", "/articles/served-1/related")[0])
        if statuses[-20:] == [404] * 20:
            break
        time.sleep(0.05)
    assert statuses[-20:] == [404] * 20
    assert call(base, "GET", "/health")[1]["log_position"] >= 3


def test_histories_stay_out_of_the_request_log(server):
    base, model, log = server
    call(base, "GET", f"/articles/{model.article_ids[0]}/recommend?history=secret-history-id")
    time.sleep(0.5)
    text = log.read_text()
    assert f"/articles/{model.article_ids[0]}/recommend" in text and "secret-history-id" not in text


def test_connections_are_spread_over_the_workers(server):
    # keep-alive connections opened in one burst: with one shared listening socket, the first
    # worker to wake would accept them all and the other would stay idle
    base, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(SPREAD_CONNECTIONS)]
    try:
        for connection in connections:
            connection.connect()
        workers = set()
        for connection in connections:
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert response.status == 200
            workers.add(json.loads(response.read())["worker"])
    finally:
        for connection in connections:
            connection.close()
    assert len(workers) == 2
    if sys.platform.startswith("linux"):  # each worker listens on a socket of its own (SO_REUSEPORT)
        assert len(_listening_sockets(port)) == 2


def _listening_sockets(port: int) -> set[str]:
    """Inodes of the sockets listening on 127.0.0.1:port (Linux's /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":
            inodes.add(fields[9])
    return inodes


def _health_workers(port: int, connections: int = SPREAD_CONNECTIONS) -> set[int]:
    """Worker process ids answering ``/health`` over ``connections`` fresh connections."""
    workers = set()
    for _ in range(connections):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            if response.status == 200:
                workers.add(json.loads(response.read())["worker"])
        except OSError:
            pass
        finally:
            connection.close()
    return workers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the supervisor runs where SO_REUSEPORT spreads")
def test_a_dead_worker_is_started_again_and_all_stop_together(tmp_path, sample_model):
    sample_model.save(tmp_path / "model")
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--model", str(tmp_path / "model"), "--port", str(port),
         "--workers", "2"], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    try:
        deadline = time.monotonic() + START_SECONDS
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:
            workers |= _health_workers(port)
            time.sleep(0.2)
        assert len(workers) == 2
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + START_SECONDS
        answering: set[int] = set()
        while time.monotonic() < deadline:  # the survivor answers at once; a new worker joins it
            answering = _health_workers(port)
            if len(answering) == 2 and killed not in answering:
                break
            time.sleep(0.2)
        assert len(answering) == 2 and killed not in answering
        process.terminate()
        assert process.wait(60) == 0
        for pid in answering:  # no worker outlives the supervisor
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        log.close()
    assert "starting it again" in (tmp_path / "server.log").read_text()


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie nobody reaped counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the supervisor runs where SO_REUSEPORT spreads")
def test_workers_stop_when_the_supervisor_is_killed_outright(tmp_path, sample_model):
    sample_model.save(tmp_path / "model")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "recommender", "serve", "--model", str(tmp_path / "model"), "--port", str(port),
         "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + START_SECONDS
        while len(workers) < 2 and time.monotonic() < deadline:
            workers |= _health_workers(port)
            time.sleep(0.2)
        assert len(workers) == 2
        process.kill()  # SIGKILL: the supervisor cannot stop its workers
        process.wait(30)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(_gone(pid) for pid in workers)
        _check_free_port(port)  # a new server can bind it
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        for pid in workers:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)


def _check_free_port(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_fails_clearly(tmp_path, capsys, sample_model, workers):
    sample_model.save(tmp_path / "model")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--model", str(tmp_path / "model"), "--port", str(port), "--workers", workers]) == 1
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err


def test_binding_beyond_loopback_needs_a_token(tmp_path, capsys, sample_model):
    assert main(["serve", "--model", str(tmp_path), "--host", "0.0.0.0"]) == 1
    assert "--token" in capsys.readouterr().err


def _until_every_worker(ask, expected):
    """Ask until ``EVERY_WORKER`` answers in a row are ``expected`` (requests spread over both
    workers, so each must give it), within ``WAIT_SECONDS``."""
    deadline = time.monotonic() + WAIT_SECONDS
    answers = []
    while time.monotonic() < deadline:
        answers.append(ask())
        if answers[-EVERY_WORKER:] == [expected] * EVERY_WORKER:
            return
        time.sleep(0.05)
    assert answers[-EVERY_WORKER:] == [expected] * EVERY_WORKER


def test_a_publish_under_load_fails_no_request(server):
    base, model, log = server
    path = log.parent / "model"
    ids = model.article_ids
    statuses: list[int] = []
    stop = threading.Event()
    deadline = time.monotonic() + LOAD_SECONDS

    def load(worker: int) -> None:
        n = 0
        while not stop.is_set() and time.monotonic() < deadline and len(statuses) < LOAD_MAX_REQUESTS:
            article, history = ids[(worker * 7 + n) % len(ids)], ids[(worker + n) % len(ids)]
            statuses.append(call(base, "GET", f"/articles/{article}/page?history={history}&now={NOW}")[0])
            n += 1

    with ThreadPoolExecutor(LOAD_CONNECTIONS) as pool:
        running = [pool.submit(load, worker) for worker in range(LOAD_CONNECTIONS)]
        while len(statuses) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = call(base, "GET", "/health")[1]["version"]
        published = Recommender.load(path)  # the served model plus one article, as a batch job would publish it
        published.add_articles([{"id": "published-1", "title": "Harbour ferry resumes its winter timetable",
                                 "body": "The harbour ferry resumes its winter timetable after repairs.",
                                 "published_at": "2026-11-28T21:00:00+00:00", "section": "local"}])
        published.save(path)
        after = Recommender.load(path).version
        assert after != before
        served_before_switch = len(statuses)
        _until_every_worker(lambda: call(base, "GET", "/health")[1]["version"], after)
        _until_every_worker(lambda: call(base, "GET", "/articles/published-1/related?k=2")[0], 200)
        time.sleep(0.5)  # a little more load on the new version
        stop.set()
        for future in running:
            future.result()
    assert len(statuses) > served_before_switch >= 30
    assert set(statuses) == {200}, f"{len(statuses) - statuses.count(200)} failed requests of {len(statuses)}"
    assert "Traceback" not in log.read_text()
