"""``recommender serve``: the lists as JSON over HTTP, for sites whose backend is not Python.

How it works
------------
An ASGI application (Starlette, run by uvicorn; the optional ``[serve]`` extra) over a
:class:`~recommender.ModelHandle` with the shared update log: each worker process holds its
handle, switches to newly published versions within a second and folds updates posted to any
worker within ``staleness``. Each request takes the model once, so it is answered by one
version.

Where the time goes: a list call is a few milliseconds of work that holds the interpreter
lock, so a worker answers reads on its event loop, one after the other, rather than in a
thread pool (threads would only queue for the lock, and every hand-over costs the loop up to
a switch interval). What may take longer runs beside the loop in a thread: writes, and a
background task that looks for a newly published version (every ``CHECK_INTERVAL`` s) and
folds the update log (every ``staleness`` s), so a reload never stalls the requests: they
are answered by the old version until the new one is loaded.

==========================================  =================================================
``GET /articles/{id}/related?k=``           ``{"items": [...]}``
``GET /ranking?k=&section=&mode=``          ``{"items": [...]}``
``GET /articles/{id}/recommend?history=a,b&k=``  ``{"items": [...]}`` (``history`` may come as a
                                            POST body ``{"history": [...]}`` instead)
``GET /articles/{id}/page?history=``        ``{"related": [...], "ranking": [...], "recommendation": [...]}``
``POST /reactions``                         a JSON array of reaction records -> ``{"position": P}``
``POST /articles``                          a JSON array of article records -> ``{"position": P}``
``DELETE /articles/{id}``                   ``{"position": P}``
``GET /health``                             ``{"version", "log_position", "articles", "worker"}``
==========================================  =================================================

Items are :meth:`~recommender.Hit.to_dict` with ``id`` for ``article_id``. ``now=`` (ISO 8601
with zone) fixes the site clock of a list call. Errors are ``{"error": "..."}``: 404 for an
unknown id or path, 400 for bad parameters or records, 401 for a missing or wrong token,
500 without details for anything unexpected (logged). Write endpoints require
``Authorization: Bearer <token>`` whenever a token is set, and the command line refuses to
bind beyond loopback without one. Request logs hold the method, the path and the status,
never the query string or the body (reading histories stay out of logs).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import time
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._handle import CHECK_INTERVAL, ModelHandle
from ._hits import Hit
from ._related.close_overlap import load_compiled_pass
from ._checks import parse_now
from .exceptions import InvalidInputError, InvalidOptionError, RecommenderError, UnknownArticleError

__all__ = ["create_app", "app_from_environment"]

logger = logging.getLogger(__name__)

ENVIRONMENT = {"model": "RECOMMENDER_SERVE_MODEL", "token": "RECOMMENDER_SERVE_TOKEN",
               "staleness": "RECOMMENDER_SERVE_STALENESS"}
"""Where ``recommender serve`` passes its options to each uvicorn worker process."""

MAX_BODY_BYTES = 20_000_000
"""Largest request body accepted (a batch of articles with their text)."""

MAX_K = 100
"""Longest list a request may ask for (a public endpoint must bound its work)."""

MIN_FOLLOW_SECONDS = 0.01
"""Shortest pause of the background task between two looks at the update log (``staleness=0``)."""


class _BadRequest(Exception):
    """A parameter or body the endpoint cannot use (400)."""


def _items(hits: list[Hit]) -> list[dict[str, Any]]:
    items = []
    for hit in hits:
        item = hit.to_dict()
        items.append({"id": item.pop("article_id"), **item})
    return items


def _int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidOptionError(f"{name} must be an integer, got {value!r}") from None
    if not 1 <= number <= MAX_K:
        raise InvalidOptionError(f"{name} must be between 1 and {MAX_K}, got {number}")
    return number


_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _flag(request: Request, name: str) -> bool | None:
    """A yes/no query parameter: ``None`` when absent or empty."""
    value = request.query_params.get(name)
    if not value:
        return None
    if value.lower() not in _FLAGS:
        raise InvalidOptionError(f"{name} must be true or false (or 1/0, yes/no), got {value!r}")
    return _FLAGS[value.lower()]


def _client_message(error: Exception) -> str:
    """An error as a client reads it: a record of the request body is named by its place in
    the body ("record 3"), not by the reader's label for an in-memory iterable."""
    if isinstance(error, InvalidInputError) and error.source == "<iterable>":
        return str(InvalidInputError(error.reason, line=error.line, record_id=error.record_id))
    return str(error)


def _now(request: Request):
    return parse_now(request.query_params.get("now"))


def _ids(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part]


async def _body(request: Request) -> Any:
    """The request's JSON body (``None`` for none), read up to :data:`MAX_BODY_BYTES` and no further."""
    declared = request.headers.get("content-length", "")
    too_large = f"request body above the limit of {MAX_BODY_BYTES:,} bytes"
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _BadRequest(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BadRequest(too_large)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest("request body is not valid JSON") from None


async def _history(request: Request) -> list[str]:
    history = _ids(request.query_params.get("history"))
    if request.method == "POST":
        body = await _body(request)
        if body is not None:
            listed = body.get("history") if isinstance(body, dict) else None
            if not isinstance(listed, list):
                raise _BadRequest('the body must be {"history": [ids]}')
            history = [str(item) if isinstance(item, int) else item for item in listed]
    return history


def _load_compiled_passes(state) -> None:
    """Compile (or load from numba's cache) Related's and Recommendation's passes before the
    first request rather than in it."""
    load_compiled_pass(state)
    state.index.load_compiled_pass()


def create_app(model: str | os.PathLike, *, token: str | None = None, staleness: float = 1.0) -> Starlette:
    """The HTTP application over the model directory ``model`` (see the module docstring).

    Parameters
    ----------
    model : path-like
        A model directory written by :meth:`Recommender.save`.
    token : str or None
        Bearer token the write endpoints require (``None``: no check; loopback only).
    staleness : float, default=1.0
        Seconds within which updates posted to another worker are served.
    """
    # requests never check for a new version or log entries themselves (that could load a
    # version on the event loop): the background task below does, beside the loop
    handle = ModelHandle(model, mmap=True, updates=True, check_interval=math.inf, staleness=math.inf)
    pause = max(min(staleness, CHECK_INTERVAL), MIN_FOLLOW_SECONDS)

    def keep_up(refresh: bool) -> None:
        if refresh:
            handle.refresh(wait=False)
        handle.poll(wait=False)

    async def follow() -> None:
        checked = time.monotonic()
        while True:
            await asyncio.sleep(pause)
            refresh = time.monotonic() - checked >= CHECK_INTERVAL
            if refresh:
                checked = time.monotonic()
            try:
                await run_in_threadpool(keep_up, refresh)
            except Exception:  # noqa: BLE001 - logged; the worker keeps serving the version it has
                logger.exception("%s: following new versions and updates failed", model)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await run_in_threadpool(_load_compiled_passes, handle.model._fitted())
        task = asyncio.create_task(follow())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def authorised(request: Request) -> bool:
        if token is None:
            return True
        given = request.headers.get("authorization", "")
        return secrets.compare_digest(given.encode(), f"Bearer {token}".encode())

    def endpoint(work, *, write: bool = False):
        async def run(request: Request) -> JSONResponse:
            status = 200
            try:
                if write and not authorised(request):
                    status, payload = 401, {"error": "a valid 'Authorization: Bearer <token>' header is required"}
                else:
                    payload = await work(request)
            except UnknownArticleError as error:
                status, payload = 404, {"error": f"unknown article id {error.args[0]!r}" if error.args else "unknown id"}
            except (InvalidOptionError, InvalidInputError, _BadRequest) as error:
                status, payload = 400, {"error": _client_message(error)}
            except RecommenderError as error:
                logger.warning("%s %s: %s", request.method, request.url.path, error)
                status, payload = 503, {"error": "the model is not available"}
            except ClientDisconnect:  # gone before its body arrived: nobody reads the answer
                status, payload = 400, {"error": "the client disconnected"}
            except Exception:  # noqa: BLE001 - logged, never shown to the client
                logger.exception("%s %s failed", request.method, request.url.path)
                status, payload = 500, {"error": "internal error"}
            logger.info("%s %s %d", request.method, request.url.path, status)  # no query string: histories
            return JSONResponse(payload, status_code=status)
        return run

    async def related(request: Request) -> dict:
        article_id, k = request.path_params["article_id"], _int(request, "k", 10)
        days = request.query_params.get("max_age_days")
        try:
            max_age = None if days is None else timedelta(days=float(days))
        except (ValueError, OverflowError):
            raise InvalidOptionError(f"max_age_days must be a number of days, got {days!r}") from None
        hits = handle.model.related(article_id, k, same_section=_flag(request, "same_section"), max_age=max_age,
                                    exclude=_ids(request.query_params.get("exclude")), now=_now(request))
        return {"items": _items(hits)}

    async def ranking(request: Request) -> dict:
        k, now = _int(request, "k", 8), _now(request)
        hits = handle.model.ranking(k, request.query_params.get("section"), now,
                                    mode=request.query_params.get("mode", "popular"),
                                    exclude=_ids(request.query_params.get("exclude")))
        return {"items": _items(hits)}

    async def recommend(request: Request) -> dict:
        history, k, now = await _history(request), _int(request, "k", 8), _now(request)
        hits = handle.model.recommend(request.path_params["article_id"], history, k, now)
        return {"items": _items(hits)}

    async def page(request: Request) -> dict:
        history, now = await _history(request), _now(request)
        result = handle.model.page(request.path_params["article_id"], history, now)
        return {name: _items(hits) for name, hits in
                (("related", result.related), ("ranking", result.ranking), ("recommendation", result.recommendation))}

    async def records(request: Request) -> list:
        body = await _body(request)
        if not isinstance(body, list):
            raise _BadRequest("the body must be a JSON array of records")
        return body

    async def post_reactions(request: Request) -> dict:
        body = await records(request)
        return {"position": await run_in_threadpool(handle.record_reactions, body, now=_now(request))}

    async def post_articles(request: Request) -> dict:
        body = await records(request)
        return {"position": await run_in_threadpool(handle.add_articles, body)}

    async def delete_article(request: Request) -> dict:
        return {"position": await run_in_threadpool(handle.remove_articles, [request.path_params["article_id"]])}

    async def health(request: Request) -> dict:
        model = handle.model
        # counted, not listed: a health probe must stay cheap at any archive size
        return {"version": model.version, "log_position": model.log_position_, "articles": model.catalog_.n_live,
                "worker": os.getpid()}

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"no endpoint {request.method} {request.url.path}"},
                            status_code=getattr(exc, "status_code", 404))

    routes = [
        Route("/health", endpoint(health)),
        Route("/ranking", endpoint(ranking)),
        Route("/articles/{article_id}/related", endpoint(related)),
        Route("/articles/{article_id}/recommend", endpoint(recommend), methods=["GET", "POST"]),
        Route("/articles/{article_id}/page", endpoint(page), methods=["GET", "POST"]),
        Route("/reactions", endpoint(post_reactions, write=True), methods=["POST"]),
        Route("/articles", endpoint(post_articles, write=True), methods=["POST"]),
        Route("/articles/{article_id}", endpoint(delete_article, write=True), methods=["DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
    app.router.redirect_slashes = False  # "/ranking/" is no endpoint: a JSON 404, not a bare redirect
    return app


def app_from_environment() -> Starlette:
    """The application of one ``recommender serve`` worker, from :data:`ENVIRONMENT`."""
    return create_app(os.environ[ENVIRONMENT["model"]], token=os.environ.get(ENVIRONMENT["token"]) or None,
                      staleness=float(os.environ.get(ENVIRONMENT["staleness"], "1.0")))
