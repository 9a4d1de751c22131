"""Command line: ``recommender demo | build | related | recommend | ranking | precompute | purge | serve | evaluate``.

``recommender evaluate {lee,labels,mind,popularity,recommendations}`` runs the offline
protocols of :mod:`recommender.evaluation.protocols` and prints a small table (see ``docs/quality.md``).

Errors from the library print as one line on stderr with exit status 1; usage errors
exit with status 2 (argparse's convention). ``--json`` prints machine-readable output.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from . import __version__
from ._articles import iter_articles, load_articles
from ._checks import parse_now
from ._time import parse_datetime
from .datasets import SAMPLE_NOW, sample_articles_path, sample_reactions_path, sample_stories
from .exceptions import ArtifactError, InvalidOptionError, RecommenderError
from ._hits import Hit
from ._model import Recommender
from ._options import PageSizes, PopularityOptions, RelatedOptions, TextOptions
from ._reactions import load_reactions
from ._readers import iter_records

_PAGE = PageSizes()  # list lengths: the defaults of the library calls

__all__ = ["main"]

WIDTH = 78
MAX_AGE_DAYS = 100 * 365  # --max-age-days: a century covers any archive; timedelta holds up to 999,999,999 days
INTERRUPTED = 130  # the shell's status for a process stopped by Ctrl-C
BUG_PREFIX = "unexpected error (a bug):"


def _positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1 (a usage error otherwise)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _hits_json(article_id: str | None, hits: list[Hit]) -> str:
    return json.dumps({"article_id": article_id, "hits": [hit.to_dict() for hit in hits]}, ensure_ascii=False)


def _print_list(rec: Recommender, heading: str, hits: list[Hit], out) -> None:
    print(f" {heading}", file=out)
    if not hits:
        print("   (nothing found)", file=out)
    for rank, hit in enumerate(hits, start=1):
        title = hit.title or hit.article_id
        title = title if len(title) <= 52 else title[:51] + "…"
        section = (hit.section or "-")[:13]
        print(f"  {rank:>2}. {title:<52} {section:<13} {hit.score:4.2f}", file=out)
        if hit.explanation:
            same_story = "same story · " if hit.tier == "story" else ""
            print(f"      {same_story}{hit.explanation}", file=out)


def _print_page(rec: Recommender, article_id: str, lists: dict[str, list[Hit]], out) -> None:
    meta = rec.article_metadata(article_id)
    print("═" * WIDTH, file=out)
    print(f" {(meta['section'] or '').upper()} · {meta['published_at'][:10]} · {article_id}", file=out)
    print(f" {meta['title']}", file=out)
    for heading, hits in lists.items():
        print("─" * WIDTH, file=out)
        _print_list(rec, heading, hits, out)
    print(file=out)


def _demo_ids(rec: Recommender, is_sample: bool, count: int) -> list[str]:
    if is_sample:
        truth = sample_stories()
        stories = list(truth["stories"].values())
        picks = [stories[0][0], truth["near_duplicates"][0][0], stories[len(stories) // 2][0]]
        return picks[:count]
    newest = sorted(rec.article_ids, key=lambda i: rec.article_metadata(i)["published_at"], reverse=True)
    return newest[:count]


def _cmd_demo(args: argparse.Namespace) -> int:
    path = Path(args.articles) if args.articles else sample_articles_path()
    reactions = load_reactions(args.reactions or sample_reactions_path()) if args.reactions or not args.articles else []
    # The site's clock for the demo: the sample's, or just after the last reaction, so the output never changes.
    stamps = [r.at for r in reactions if r.at is not None]
    now = max(stamps) if args.reactions and stamps else SAMPLE_NOW if args.articles is None else None
    rec = Recommender().fit(path)
    report = rec.record_reactions(reactions, now=now)
    ids = args.article or _demo_ids(rec, args.articles is None, 3)
    print(f"Fitted {len(rec.article_ids)} articles from {path.name} ({len(rec.vectorizer_.terms_):,} terms) "
          f"and {report.applied:,} reactions; site time {now.isoformat() if now else 'now'}.\n")
    history = [i for i in (args.history or "").split(",") if i]
    if not history and args.articles is None:  # a reader who followed one story before
        history = list(sample_stories()["stories"].values())[5][:2]
    if history:
        print(f"Reader history: {', '.join(history)}\n")
    for article_id in ids:
        page = rec.page(article_id, history=history, now=now)
        lists = {"Related": page.related, "Most popular now": page.ranking, "Recommended for you": page.recommendation}
        _print_page(rec, article_id, lists, sys.stdout)
    return 0


def _model_directory(out: str) -> bool:
    """Make sure ``out`` can hold a model before the fit spends its time: an existing directory,
    or one created now (returns whether it was). Raises :class:`ArtifactError` otherwise."""
    path = Path(out)
    if path.is_dir():
        return False
    if path.exists():
        raise ArtifactError(f"{out}: cannot create a model directory here: it is a file")
    try:
        path.mkdir(parents=True)
    except OSError as error:
        raise ArtifactError(f"{out}: cannot create a model directory here ({error.strerror or error})") from None
    return True


def _cmd_build(args: argparse.Namespace) -> int:
    errors: list | None = [] if args.lenient else None
    created = _model_directory(args.out)
    try:
        rec = _built(args, errors)
    except BaseException:
        if created and not any(Path(args.out).iterdir()):
            Path(args.out).rmdir()  # made for this build only
        raise
    print(f"built {len(rec.article_ids)} articles, {len(rec.vectorizer_.terms_):,} terms, "
          f"{rec.reaction_report_.applied:,} reactions -> {args.out}"
          + (f" ({len(errors)} records skipped)" if errors else ""))
    print(_date_prior_line(rec))
    return 0


def _built(args: argparse.Namespace, errors: list | None) -> Recommender:
    """The model ``build`` publishes, fitted, with its rules, saved to ``args.out``."""
    reactions = load_reactions(args.reactions, errors=errors) if args.reactions else None
    from ._precompute import dask_backend

    rec = Recommender(title_weight=args.title_weight, duplicate_threshold=args.duplicate_threshold, n_jobs=args.n_jobs,
                      language=args.language, cross_language=args.cross_language)
    with dask_backend(args.dask):  # the articles are validated as the fit reads them, a chunk at a time
        rec.fit(iter_articles(args.articles, errors=errors), reactions=reactions)
    for error in errors or ():
        print(f"skipped: {error}", file=sys.stderr)
    if args.rules_from:
        from ._precompute import rules_with_log

        rec.set_rules(rules_with_log(args.rules_from, Recommender.load(args.rules_from, mmap=True)))
    rec.save(args.out)
    return rec


def _date_prior_line(rec: Recommender) -> str:
    """What the fit decided about the Related score's date prior, in one line."""
    locality = rec.time_locality_
    if locality is None:
        return "Related date prior: off (no neighbour profiles)"
    measured = (f"{locality.linked:.0%} of close neighbours published within {locality.window_days:g} days, "
                f"{locality.random:.0%} of random pairs")
    if rec.time_scale_days_ is None:
        return f"Related date prior: off ({measured}: the dates do not predict the neighbours)"
    return f"Related date prior: on, {rec.time_scale_days_:g} days ({measured})"


def _cmd_recommend(args: argparse.Namespace) -> int:
    rec = Recommender.load(args.model, mmap=True)
    history = [i for i in (args.history or "").split(",") if i]
    hits = rec.recommend(args.article, history=history, k=args.k, now=parse_now(args.now, "--now"))
    if args.json:
        print(_hits_json(args.article, hits))
    else:
        _print_list(rec, "Recommended for you", hits, sys.stdout)
    return 0


def _cmd_precompute(args: argparse.Namespace) -> int:
    from ._precompute import precompute

    report = precompute(
        args.model, args.out, k=args.k, pages=args.pages, now=parse_now(args.now, "--now"), jsonl=args.jsonl,
        jsonl_fields=args.jsonl_fields,
        n_jobs=args.n_jobs, block_size=args.block_size, dask=args.dask,
    )
    resumed = f", {report.blocks_resumed} resumed" if report.blocks_resumed else ""
    rows = f"{report.rows_written:,} rows" + (" written by this run" if report.blocks_resumed else "")
    print(f"precomputed {report.articles:,} articles in {report.blocks} blocks{resumed}: "
          f"{rows} -> {report.out}" + (f" and {report.jsonl}" if report.jsonl else ""))
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    from .purge import purge_model

    report = purge_model(args.model, args.ids, precomputed=args.precomputed or ())
    if args.json:
        print(json.dumps(report))
        return 0
    model, versions, log = report["model"], report["versions"], report["log"]
    print(f"purged {', '.join(report['ids'])} from {args.model}")
    print("  model: " + ("no trace in the current version" if model is None else
                         f"new version {model['version']}: {model['rows']} rows, {model['terms']} terms, "
                         f"{model['profile_entries']} profile entries, {model['pending_reactions']} waiting "
                         f"reactions, {model['aliases']} aliases removed"))
    print(f"  retained versions rewritten: {versions['rewritten']}; leftovers deleted: {versions['leftovers_deleted']}")
    print(f"  update log: {log['entries_rewritten']} entries rewritten, {log['entries_deleted']} deleted, "
          f"{log['records_dropped']} records dropped")
    if log.get("checkpointed") is False:
        print("  update log: a reader kept the checkpoint from completing; run the purge again", file=sys.stderr)
    for output, rows in report["precomputed"].items():
        print(f"  {output}: {rows} rows deleted")
    return 0


def _cmd_ranking(args: argparse.Namespace) -> int:
    rec = Recommender.load(args.model, mmap=True)
    hits = rec.ranking(k=args.k, section=args.section, now=parse_now(args.now, "--now"), mode=args.mode)
    if args.json:
        print(_hits_json(None, hits))
    else:
        _print_list(rec, "Trending" if args.mode == "trending" else "Most popular", hits, sys.stdout)
    return 0


def _cmd_related(args: argparse.Namespace) -> int:
    rec = Recommender.load(args.model, mmap=True)
    options = {
        "same_section": args.same_section,
        "max_age": timedelta(days=args.max_age_days) if args.max_age_days is not None else None,
        "exclude": [i for i in (args.exclude or "").split(",") if i],
        "now": parse_now(args.now, "--now"),
    }
    if args.article_id is not None:
        hits = rec.related(args.article_id, k=args.k, preview=args.preview, **options)
    else:
        if args.body is None:
            raise RecommenderError("give an ARTICLE_ID, or --body (and optionally --title) for a new text")
        hits = rec.related_to_text(args.title or "", args.body, k=args.k, section=args.section,
                                   language=args.language, **options)
    if args.json:
        print(_hits_json(args.article_id, hits))
    elif args.article_id is not None:
        _print_page(rec, args.article_id, {"Related": hits}, sys.stdout)
    else:
        _print_list(rec, "Related", hits, sys.stdout)
    return 0




def _jsonable(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def _print_table(title: str, rows: dict[str, dict], out) -> None:
    """Rows of figures as a table; a single row as one figure a line."""
    first = next(iter(rows.values()))
    columns = [c for c in first if isinstance(first[c], (int, float)) and not isinstance(first[c], bool)]
    cell = lambda v, w: f"{v:>{w}d}" if isinstance(v, int) else f"{v:>{w}.3f}"  # noqa: E731
    print(title, file=out)
    if len(rows) == 1:
        for column in columns:
            print(f"  {column:<24}{cell(first[column], 10)}", file=out)
        return
    short = {"intra_list_similarity": "ILS", "popular_share": "popular", "long_tail_share": "long tail",
             "popularity_bias": "pop.pctl", "near_duplicate_rate": "near-dup", "mean_length": "length"}
    print(f"  {'':<16}" + "".join(f"{short.get(c, c):>10}" for c in columns), file=out)
    for name, figures in rows.items():
        print(f"  {name:<16}" + "".join(cell(figures[c], 10) for c in columns), file=out)


def _records_with_labels(path: str, field: str) -> tuple[list[dict], dict[str, str | None]]:
    records = [dict(record) for _, _, record in iter_records(path) if isinstance(record, dict)]
    labels = {str(r.get("id")): (None if r.get(field) in (None, "") else str(r.get(field))) for r in records}
    if not any(label is not None for label in labels.values()):
        raise InvalidOptionError(f"no record of {path} has a {field!r} field; choose one with --label-field")
    return records, labels


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import protocols
    out = sys.stdout
    if args.protocol == "lee":
        from .evaluation.lee import evaluate_lee
        result = evaluate_lee()
        table = {"Lee (1,225 pairs)": result}
    elif args.protocol == "labels":
        if args.articles:
            articles, labels = _records_with_labels(args.articles, args.label_field)
        elif args.synthetic:
            from .evaluation.synthetic import generate_articles
            articles = list(generate_articles(args.synthetic, seed=args.seed))
            labels = {a["id"]: a["story"] for a in articles}
        else:
            articles, labels = sample_articles_path(), protocols.story_labels(sample_stories())
        result = protocols.evaluate_labels(articles, labels, k=args.k)
        table = {f"Related @{args.k}": result}
    elif args.protocol == "mind":
        result = protocols.evaluate_mind(args.news, args.behaviors, bootstrap=args.bootstrap)
        metrics = ("auc", "mrr", "ndcg@5", "ndcg@10")
        table = {name: {m: figures[m] for m in metrics} for name, figures in
                 {"library": result, **result["baselines"]}.items()}
        if not args.json:
            print(f"{result['n_impressions']} impressions, {result['n_news']} news, {result['n_times']} distinct times "
                  "(replayed in time order: popularity from earlier impressions' clicks only)", file=out)
            if "bootstrap" in result:
                b = result["bootstrap"]
                print(f"AUC library - {b['baseline']}: {b['auc_difference']:+.3f} "
                      f"(95 % paired bootstrap {b['low']:+.3f} .. {b['high']:+.3f})", file=out)
    elif args.protocol == "popularity":
        if args.articles and not args.reactions:
            raise InvalidOptionError("--articles needs --reactions (reaction events with timestamps)")
        articles = args.articles or sample_articles_path()
        reactions = load_reactions(args.reactions or sample_reactions_path())
        try:
            splits = [parse_datetime(s, what="--split") for s in args.split or ()] or protocols.daily_splits(reactions)
        except ValueError as error:
            raise InvalidOptionError(str(error)) from None
        result = protocols.evaluate_popularity(articles, reactions, split=splits, half_life_hours=args.half_life_hours)
        table = {name: result[name] for name in ("popular", "trending", "count_so_far")}
        print(f"{result['n_splits']} splits, {result['n_articles']:.1f} stories in the ranking window on average",
              file=sys.stderr if args.json else out)
    else:
        if args.articles:
            articles, labels = _records_with_labels(args.articles, args.label_field)
        else:
            articles, labels = load_articles(sample_articles_path()), protocols.story_labels(sample_stories())
        use_reactions = args.reactions or not args.articles
        reactions = load_reactions(args.reactions or sample_reactions_path()) if use_reactions else []
        stamps = [r.at for r in reactions if r.at is not None]
        now = parse_now(args.now, "--now") or (SAMPLE_NOW if not args.articles else max(stamps) if stamps else None)
        model = Recommender().fit(articles)
        now = now or max(parse_datetime(model.article_metadata(a)["published_at"]) for a in model.article_ids)
        model.record_reactions([r for r in reactions if r.at is None or r.at <= now], now=now)
        readers = {"new reader": None, "reader of another story": protocols.other_story_reader(labels)}
        result = {name: protocols.evaluate_recommendations(model, now=now, history_fn=fn, on_page=not args.standalone)
                  for name, fn in readers.items()}
        table = None
        if not args.json:
            for name, figures in result.items():
                rows = {variant: figures[variant] for variant in ("model", *protocols.BASELINES)}
                _print_table(f"{name} ({figures['n_pages']} pages, now {now.isoformat()})", rows, out)
    if args.json:
        print(json.dumps(_jsonable(result), ensure_ascii=False))
    elif table is not None:
        _print_table(f"evaluate {args.protocol}", table, out)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error printed as one line (exit status 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _days(text: str) -> float:
    """A finite, non-negative number of days that a ``timedelta`` can hold."""
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not (math.isfinite(days) and 0 <= days <= MAX_AGE_DAYS):
        raise argparse.ArgumentTypeError(f"expected a number of days from 0 to {MAX_AGE_DAYS:,}, got {text!r}")
    return days


def _cmd_serve(args: argparse.Namespace) -> int:
    import copy
    import ipaddress
    import os

    try:
        import uvicorn.config

        from . import _serve, _workers
    except ImportError:
        raise RecommenderError("recommender serve needs the serve extra: pip install 'recommender[serve]'") from None
    token = args.token or os.environ.get(_serve.ENVIRONMENT["token"]) or None
    try:
        loopback = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and token is None:
        raise InvalidOptionError(f"binding {args.host} exposes the write endpoints beyond this machine; "
                                 f"give --token (or {_serve.ENVIRONMENT['token']})")
    if args.workers < 1:
        raise InvalidOptionError(f"--workers must be at least 1, got {args.workers}")
    Recommender.load(args.model, mmap=True)  # a model that does not load fails here, not in every worker
    os.environ[_serve.ENVIRONMENT["model"]] = str(Path(args.model).resolve())
    os.environ[_serve.ENVIRONMENT["staleness"]] = str(args.staleness)
    if token is not None:
        os.environ[_serve.ENVIRONMENT["token"]] = token
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["recommender"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    try:  # own request log (no query strings); connections spread over the workers (see recommender._workers)
        _workers.run_workers(args.host, args.port, args.workers, access_log=False, log_config=log_config)
    except OSError as error:
        raise RecommenderError(f"cannot serve on {args.host}:{args.port}: {error.strerror or error}") from None
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recommender", description="Related, Ranking and Recommendation lists for news sites.")
    parser.add_argument("--version", action="version", version=f"recommender {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="fit the bundled sample corpus and print article pages")
    demo.add_argument("--articles", help="articles file to use instead of the bundled sample")
    demo.add_argument("--reactions", help="reactions file to use with --articles")
    demo.add_argument("--article", action="append", help="article id to show (repeatable)")
    demo.add_argument("--history", help="comma-separated ids the reader read before")
    demo.set_defaults(handler=_cmd_demo)

    build = commands.add_parser("build", help="fit a model on an articles file and save it")
    build.add_argument("articles", help="articles as JSONL or CSV (optionally .gz)")
    build.add_argument("--out", required=True, help="model directory to publish to")
    build.add_argument("--reactions", help="reactions as CSV or JSONL: events or counts")
    build.add_argument("--title-weight", type=float, default=TextOptions.title_weight)
    build.add_argument("--duplicate-threshold", type=float, default=RelatedOptions.duplicate_threshold)
    build.add_argument("--language", default=TextOptions.language,
                       help="language of articles that name none (default: en)")
    build.add_argument("--cross-language", action="store_true",
                       help="let Related and Recommendation lists hold articles in other languages")
    build.add_argument("--lenient", action="store_true", help="skip and report bad records instead of stopping")
    build.add_argument("--n-jobs", type=int, default=None,
                       help="processes tokenising the articles and threads of the neighbour search "
                            "(-1: all cores); with --dask, the search's workers")
    build.add_argument("--dask", help="run the neighbour search on this Dask scheduler, e.g. tcp://127.0.0.1:8786")
    build.add_argument("--rules-from", metavar="MODEL",
                       help="carry the editorial rules (blocks, pins, eligibility) of this published model, "
                            "with those posted to its update log")
    build.set_defaults(handler=_cmd_build)

    related = commands.add_parser("related", help="Related list for an article id or a new text")
    related.add_argument("article_id", nargs="?", help="indexed article id")
    related.add_argument("--model", required=True, help="model directory written by build")
    related.add_argument("-k", type=_positive_int, default=_PAGE.related)
    related.add_argument("--title", help="title of a text that is not indexed")
    related.add_argument("--body", help="body of a text that is not indexed")
    related.add_argument("--section", help="section of that text")
    related.add_argument("--language", help="language of that text, e.g. es (default: the model's)")
    section = related.add_mutually_exclusive_group()
    section.add_argument("--same-section", dest="same_section", action="store_const", const=True, default=None)
    section.add_argument("--other-section", dest="same_section", action="store_const", const=False)
    related.add_argument("--max-age-days", type=_days, help="only stories within this many days")
    related.add_argument("--exclude", help="comma-separated ids to leave out")
    related.add_argument("--now", help="site time, ISO 8601 with zone (default: the current time)")
    related.add_argument("--preview", action="store_true", help="list a story scheduled after --now")
    related.add_argument("--json", action="store_true", help="print JSON")
    related.set_defaults(handler=_cmd_related)

    recommend = commands.add_parser("recommend", help="what a reader should read next")
    recommend.add_argument("--model", required=True, help="model directory written by build")
    recommend.add_argument("--article", help="id of the article being read")
    recommend.add_argument("--history", help="comma-separated ids read before, oldest first")
    recommend.add_argument("-k", type=_positive_int, default=_PAGE.recommendation)
    recommend.add_argument("--now", help="site time, ISO 8601 with zone (default: the current time)")
    recommend.add_argument("--json", action="store_true", help="print JSON")
    recommend.set_defaults(handler=_cmd_recommend)

    pre = commands.add_parser("precompute", help="precompute every article's lists into SQLite (and JSONL)")
    pre.add_argument("--model", required=True, help="model directory written by build")
    pre.add_argument("--out", required=True, help="SQLite file to publish (atomically)")
    pre.add_argument("--jsonl", help="also export JSON lines to this file")
    pre.add_argument("--jsonl-fields", action="store_true",
                     help="give the JSON lines' items title, url, section and published_at")
    pre.add_argument("-k", type=_positive_int, default=10, help="Related list length")
    pre.add_argument("--pages", action="store_true", help="also Ranking and Recommendation of each page")
    pre.add_argument("--now", help="site time of the lists, ISO 8601 with zone (default: the current time; "
                                   "required with --pages)")
    pre.add_argument("--n-jobs", type=int, default=None, help="worker processes (-1: all cores)")
    pre.add_argument("--block-size", type=_positive_int, default=256, help="articles per block (bounds memory)")
    pre.add_argument("--dask", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    pre.set_defaults(handler=_cmd_precompute)

    purge = commands.add_parser("purge", help="remove articles and every trace of them (model versions, update "
                                "log, precomputed lists)")
    purge.add_argument("ids", nargs="+", metavar="ID", help="article id to purge")
    purge.add_argument("--model", required=True, help="model directory written by build")
    purge.add_argument("--precomputed", action="append", metavar="FILE",
                       help="SQLite or JSONL file written by precompute from this model (repeatable)")
    purge.add_argument("--json", action="store_true", help="print the report as JSON")
    purge.set_defaults(handler=_cmd_purge)

    ranking = commands.add_parser("ranking", help="most popular (or trending) stories now")
    ranking.add_argument("--model", required=True, help="model directory written by build")
    ranking.add_argument("-k", type=_positive_int, default=_PAGE.ranking)
    ranking.add_argument("--section", help="only this section")
    ranking.add_argument("--now", help="site time, ISO 8601 with zone (default: the current time)")
    ranking.add_argument("--mode", choices=["popular", "trending"], default="popular")
    ranking.add_argument("--json", action="store_true", help="print JSON")
    ranking.set_defaults(handler=_cmd_ranking)

    serve = commands.add_parser("serve", help="serve the lists as JSON over HTTP (needs the serve extra)")
    serve.add_argument("--model", required=True, help="model directory written by build")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (they share the mapped model)")
    serve.add_argument("--token", help="bearer token the write endpoints require (required beyond loopback; "
                       "or set RECOMMENDER_SERVE_TOKEN)")
    serve.add_argument("--staleness", type=float, default=1.0,
                       help="seconds within which updates posted to one worker reach the others")
    serve.set_defaults(handler=_cmd_serve)

    evaluate = commands.add_parser("evaluate", help="offline quality figures (see docs/quality.md)")
    protocols = evaluate.add_subparsers(dest="protocol", required=True)
    protocols.add_parser("lee", help="agreement with human similarity ratings (needs the eval extra)")
    labels = protocols.add_parser("labels", help="Related lists against story labels (default: sample corpus)")
    labels.add_argument("--articles", help="JSONL/CSV articles with a label field")
    labels.add_argument("--label-field", default="story", help="field holding the label (default: story)")
    labels.add_argument("--synthetic", type=int, metavar="N", help="use N synthetic articles with known stories")
    labels.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    labels.add_argument("-k", type=_positive_int, default=_PAGE.related)
    mind = protocols.add_parser("mind", help="MIND click benchmark: AUC, MRR, nDCG@5, nDCG@10")
    mind.add_argument("--news", required=True, help="MIND news.tsv")
    mind.add_argument("--behaviors", required=True, help="MIND behaviors.tsv (train or dev: with labels)")
    mind.add_argument("--bootstrap", type=int, default=1000,
                      help="paired bootstrap resamples of library minus best baseline AUC (0: none)")
    popularity = protocols.add_parser("popularity", help="Ranking scores against next-day reactions")
    popularity.add_argument("--articles", help="articles file (default: sample corpus)")
    popularity.add_argument("--reactions", help="reaction events file (default: sample reactions)")
    popularity.add_argument("--split", action="append", help="split time, ISO 8601 with zone (repeatable; "
                            "default: daily at 12:00 UTC)")
    popularity.add_argument("--half-life-hours", type=float, default=PopularityOptions.half_life_hours)
    recs = protocols.add_parser("recommendations", help="diversity, coverage, popularity bias vs baselines")
    recs.add_argument("--articles", help="articles file (default: sample corpus)")
    recs.add_argument("--label-field", default="story", help="story field, to simulate a reader's history")
    recs.add_argument("--reactions", help="reactions file (default: sample reactions)")
    recs.add_argument("--now", help="site time, ISO 8601 with zone (default: the last reaction)")
    recs.add_argument("--standalone", action="store_true", help="judge recommend() lists, not the page's")
    for sub in protocols.choices.values():
        sub.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(handler=_cmd_evaluate)
    return parser


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Every error prints one line on stderr: status 1 for errors of the library
    (:class:`~recommender.RecommenderError`), 2 for usage errors. ``--debug`` shows the traceback.
    An exception of any other type is a bug: it is reported as such, also on one line.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "precompute" and args.pages and args.now is None:
        parser.error("precompute --pages needs --now (a fixed site time, so that reruns and resumes agree)")
    previous = signal.signal(signal.SIGTERM, _interrupted) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        with warnings.catch_warnings():  # an interrupted parallel run says so in one line, below
            warnings.filterwarnings("ignore", message=r"\d+ tasks which were still being processed", category=UserWarning)
            return args.handler(args)
    except RecommenderError as error:
        if args.debug:
            raise
        message = str(error) if not isinstance(error, KeyError) else error.__str__()
        print(f"recommender: error: {_one_line(message)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("recommender: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:  # noqa: BLE001  report, not rewrap: a bug should not print a wall of text
        if args.debug:
            raise
        print(f"recommender: {BUG_PREFIX} {type(error).__name__}: {_one_line(str(error))} "
              f"(rerun with --debug for the traceback, and please report it)", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupted(signum: int, frame: object) -> None:
    """``SIGTERM`` (``kill``, ``timeout``, a job scheduler) stops a command as Ctrl-C does: the
    work in hand is abandoned cleanly, worker processes included, and nothing half-written is
    published."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
