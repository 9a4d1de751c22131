"""``recommender serve --workers N``: worker processes that share the connections evenly.

How it works
------------
uvicorn's own ``workers=N`` binds one listening socket and lets every worker accept from it.
A worker's event loop accepts every connection waiting when it wakes up, so a burst of new
connections (a proxy opening its keep-alive pool, a load test starting) lands on one worker
while the others stay idle: with keep-alive connections, one process then serves nearly every
request for as long as they live.

On Linux each worker here binds a socket of its own to the same address with
``SO_REUSEPORT``, and the kernel spreads new connections over the workers' sockets by a hash
of each connection's addresses. A small supervisor (this process) starts the workers, starts
a worker again if one dies, and stops them all on ``SIGINT`` or ``SIGTERM``; a worker whose
supervisor is gone (killed outright) stops by itself. Elsewhere (no load-spreading
``SO_REUSEPORT``) it falls back to uvicorn's ``workers=N``.

Before any worker starts, the address is bound once *without* ``SO_REUSEPORT``, so a port
that another server already listens on fails at once, instead of silently sharing its
connections with it.

I/O at the edge: sockets and processes; the application is :func:`recommender._serve.app_from_environment`.
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

__all__ = ["APP", "run_workers", "spreads_connections"]

logger = logging.getLogger(__name__)

APP = "recommender._serve:app_from_environment"
"""The application factory every worker runs (its options come from the environment)."""

RESTART_PAUSE = 1.0
"""Seconds the supervisor waits before starting a dead worker again."""

STOP_SECONDS = 30.0
"""Seconds a worker has to finish its requests after ``SIGTERM`` before it is killed."""

SUPERVISOR_CHECK = 0.5
"""Seconds between a worker's looks at whether its supervisor is still there."""


def spreads_connections() -> bool:
    """Whether this system spreads connections over sockets bound with ``SO_REUSEPORT`` (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _check_free(host: str, port: int) -> None:
    """Raise ``OSError`` if another socket is bound to ``host:port`` (even with ``SO_REUSEPORT``)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _stop_with_supervisor(supervisor: int) -> None:
    """Stop this worker, as ``SIGTERM`` does, once its supervisor (process id ``supervisor``) is
    gone: a supervisor killed outright (``SIGKILL``, the out-of-memory killer) cannot stop its
    workers, which would otherwise keep serving the port, and a new server could not bind it.
    The id comes from the supervisor itself, so one that died while this worker started counts
    as gone too."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(SUPERVISOR_CHECK)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(STOP_SECONDS)  # as the supervisor would: requests get this long, then the worker is killed
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def _worker(host: str, port: int, options: dict[str, Any], supervisor: int) -> None:
    """One worker process: its own ``SO_REUSEPORT`` socket, one uvicorn server on it; it stops
    when the ``supervisor`` process is gone."""
    import uvicorn

    _stop_with_supervisor(supervisor)
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    config = uvicorn.Config(APP, factory=True, host=host, port=port, **options)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # the terminal's Ctrl+C reaches every process of the group
        pass


def run_workers(host: str, port: int, workers: int, **options: Any) -> None:
    """Serve :data:`APP` on ``host:port`` with ``workers`` processes until ``SIGINT``/``SIGTERM``.

    Parameters
    ----------
    host : str
    port : int
    workers : int
        Worker processes (at least 1).
    **options
        Further :class:`uvicorn.Config` options (``log_config``, ``access_log``...).
    """
    import uvicorn

    _check_free(host, port)  # a port in use fails here, as one clear error, before any worker starts
    if workers == 1 or not spreads_connections():
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers if workers > 1 else None, **options)
        return
    if isinstance(options.get("log_config"), dict):
        logging.config.dictConfig(options["log_config"])  # the supervisor's own messages, as the workers'
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    processes: list[Any] = []
    try:
        def start() -> Any:
            process = context.Process(target=_worker, args=(host, port, options, os.getpid()), daemon=False)
            process.start()
            return process

        processes = [start() for _ in range(workers)]
        logger.info("serving on %s:%d with %d worker processes", host, port, workers)
        while not stopping:
            time.sleep(0.2)
            for position, process in enumerate(processes):
                if not stopping and not process.is_alive():
                    logger.warning("worker %d exited with code %s; starting it again", process.pid, process.exitcode)
                    time.sleep(RESTART_PAUSE)
                    if not stopping:
                        processes[position] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes:
            process.join(max(deadline - time.monotonic(), 0.0))
            if process.is_alive():
                process.kill()
                process.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
