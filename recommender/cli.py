"""Command line: ``recommender demo | build | related``.

Errors from the library print as one line on stderr with exit status 1; usage errors
exit with status 2 (argparse's convention). ``--json`` prints machine-readable output.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from . import __version__
from .articles import load_articles, parse_datetime
from .datasets import sample_articles_path, sample_reactions_path, sample_stories
from .exceptions import InvalidOptionError, RecommenderError
from .lists import Hit
from .model import Recommender
from .reactions import load_reactions

__all__ = ["main"]

WIDTH = 78


def _hits_json(article_id: str | None, hits: list[Hit]) -> str:
    return json.dumps({"article_id": article_id, "hits": [asdict(hit) for hit in hits]}, ensure_ascii=False)


def _print_list(rec: Recommender, heading: str, hits: list[Hit], out) -> None:
    print(f" {heading}", file=out)
    if not hits:
        print("   (nothing found)", file=out)
    for rank, hit in enumerate(hits, start=1):
        meta = rec.article_metadata(hit.article_id)
        title = meta["title"] or hit.article_id
        title = title if len(title) <= 52 else title[:51] + "…"
        section = (meta["section"] or "-")[:13]
        print(f"  {rank:>2}. {title:<52} {section:<13} {hit.score:4.2f}", file=out)
        if hit.explanation:
            print(f"      {hit.explanation}", file=out)


def _print_page(rec: Recommender, article_id: str, lists: dict[str, list[Hit]], out) -> None:
    meta = rec.article_metadata(article_id)
    print("═" * WIDTH, file=out)
    print(f" {(meta['section'] or '').upper()} · {meta['published_at'][:10]} · {article_id}", file=out)
    print(f" {meta['title']}", file=out)
    for heading, hits in lists.items():
        print("─" * WIDTH, file=out)
        _print_list(rec, heading, hits, out)
    print(file=out)


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_datetime(text, what="--now")
    except ValueError as error:
        raise InvalidOptionError(str(error)) from None


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
    # The site's clock for the demo: just after the last reaction, so the output never changes.
    stamps = [r.at for r in reactions if r.at is not None]
    now = max(stamps) if stamps else None
    rec = Recommender().fit(load_articles(path))
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


def _cmd_build(args: argparse.Namespace) -> int:
    errors: list | None = [] if args.lenient else None
    articles = load_articles(args.articles, errors=errors)
    reactions = load_reactions(args.reactions, errors=errors) if args.reactions else None
    for error in errors or ():
        print(f"skipped: {error}", file=sys.stderr)
    rec = Recommender(title_weight=args.title_weight, duplicate_threshold=args.duplicate_threshold)
    rec.fit(articles, reactions=reactions)
    rec.save(args.out)
    print(f"built {len(articles)} articles, {len(rec.vectorizer_.terms_):,} terms, "
          f"{rec.reaction_report_.applied:,} reactions -> {args.out}"
          + (f" ({len(errors)} records skipped)" if errors else ""))
    return 0


def _cmd_recommend(args: argparse.Namespace) -> int:
    rec = Recommender.load(args.model, mmap=True)
    history = [i for i in (args.history or "").split(",") if i]
    hits = rec.recommend(args.article, history=history, k=args.k, now=_parse_now(args.now))
    if args.json:
        print(_hits_json(args.article, hits))
    else:
        _print_list(rec, "Recommended for you", hits, sys.stdout)
    return 0


def _cmd_precompute(args: argparse.Namespace) -> int:
    from .precompute import precompute

    report = precompute(
        args.model, args.out, k=args.k, pages=args.pages, now=_parse_now(args.now), jsonl=args.jsonl,
        n_jobs=args.n_jobs, block_size=args.block_size, dask=args.dask,
    )
    resumed = f", {report.blocks_resumed} resumed" if report.blocks_resumed else ""
    print(f"precomputed {report.articles:,} articles in {report.blocks} blocks{resumed}: "
          f"{report.rows_written:,} rows -> {report.out}" + (f" and {report.jsonl}" if report.jsonl else ""))
    return 0


def _cmd_ranking(args: argparse.Namespace) -> int:
    rec = Recommender.load(args.model, mmap=True)
    hits = rec.ranking(k=args.k, section=args.section, now=_parse_now(args.now), mode=args.mode)
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
    }
    if args.article_id is not None:
        hits = rec.related(args.article_id, k=args.k, **options)
    else:
        if args.body is None:
            raise RecommenderError("give an ARTICLE_ID, or --body (and optionally --title) for a new text")
        hits = rec.related_to_text(args.title or "", args.body, k=args.k, section=args.section, **options)
    if args.json:
        print(_hits_json(args.article_id, hits))
    elif args.article_id is not None:
        _print_page(rec, args.article_id, {"Related": hits}, sys.stdout)
    else:
        _print_list(rec, "Related", hits, sys.stdout)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recommender", description="Related, Ranking and Recommendation lists for news sites.")
    parser.add_argument("--version", action="version", version=f"recommender {__version__}")
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
    build.add_argument("--title-weight", type=float, default=2.0)
    build.add_argument("--duplicate-threshold", type=float, default=0.8)
    build.add_argument("--lenient", action="store_true", help="skip and report bad records instead of stopping")
    build.set_defaults(handler=_cmd_build)

    related = commands.add_parser("related", help="Related list for an article id or a new text")
    related.add_argument("article_id", nargs="?", help="indexed article id")
    related.add_argument("--model", required=True, help="model directory written by build")
    related.add_argument("-k", type=int, default=10)
    related.add_argument("--title", help="title of a text that is not indexed")
    related.add_argument("--body", help="body of a text that is not indexed")
    related.add_argument("--section", help="section of that text")
    section = related.add_mutually_exclusive_group()
    section.add_argument("--same-section", dest="same_section", action="store_const", const=True, default=None)
    section.add_argument("--other-section", dest="same_section", action="store_const", const=False)
    related.add_argument("--max-age-days", type=float, help="only stories within this many days")
    related.add_argument("--exclude", help="comma-separated ids to leave out")
    related.add_argument("--json", action="store_true", help="print JSON")
    related.set_defaults(handler=_cmd_related)

    recommend = commands.add_parser("recommend", help="what a reader should read next")
    recommend.add_argument("--model", required=True, help="model directory written by build")
    recommend.add_argument("--article", help="id of the article being read")
    recommend.add_argument("--history", help="comma-separated ids read before, oldest first")
    recommend.add_argument("-k", type=int, default=8)
    recommend.add_argument("--now", help="site time, ISO 8601 with zone (default: the current time)")
    recommend.add_argument("--json", action="store_true", help="print JSON")
    recommend.set_defaults(handler=_cmd_recommend)

    pre = commands.add_parser("precompute", help="precompute every article's lists into SQLite (and JSONL)")
    pre.add_argument("--model", required=True, help="model directory written by build")
    pre.add_argument("--out", required=True, help="SQLite file to publish (atomically)")
    pre.add_argument("--jsonl", help="also export JSON lines to this file")
    pre.add_argument("-k", type=int, default=10, help="Related list length")
    pre.add_argument("--pages", action="store_true", help="also Ranking and Recommendation of each page")
    pre.add_argument("--now", help="site time for --pages, ISO 8601 with zone")
    pre.add_argument("--n-jobs", type=int, default=None, help="worker processes (-1: all cores)")
    pre.add_argument("--block-size", type=int, default=256, help="articles per block (bounds memory)")
    pre.add_argument("--dask", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    pre.set_defaults(handler=_cmd_precompute)

    ranking = commands.add_parser("ranking", help="most popular (or trending) stories now")
    ranking.add_argument("--model", required=True, help="model directory written by build")
    ranking.add_argument("-k", type=int, default=8)
    ranking.add_argument("--section", help="only this section")
    ranking.add_argument("--now", help="site time, ISO 8601 with zone (default: the current time)")
    ranking.add_argument("--mode", choices=["popular", "trending"], default="popular")
    ranking.add_argument("--json", action="store_true", help="print JSON")
    ranking.set_defaults(handler=_cmd_ranking)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except RecommenderError as error:
        message = str(error) if not isinstance(error, KeyError) else error.__str__()
        print(f"recommender: error: {message}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
