"""Markup to text on hostile bodies at the article size limit, and on normal HTML.

    python benchmarks/bench_markup.py                       # every pattern at 2,000,000 characters
    python benchmarks/bench_markup.py --reference 40000 160000   # also the stdlib HTMLParser, smaller

Times :func:`recommender._markup.html_to_text` (and ``looks_like_html``) on the patterns that
make a naive tag search quadratic — unclosed ``<a``, ``</``, ``<!``, ``<!--``, quoted attributes
that never close, ``<script>`` without its end tag, whitespace runs without a line break — at
``ArticleLimits.max_body_chars``, then on ordinary article HTML of the same size, and the
whole article path (``load_articles``) on the worst pattern. ``--reference N...`` also times
:class:`html.parser.HTMLParser` on the same patterns at sizes N, for comparison (it is
quadratic: keep N small). Prints a Markdown table of seconds per call.
"""

from __future__ import annotations

import argparse
import time
from html.parser import HTMLParser

from recommender import load_articles
from recommender._articles import ArticleLimits
from recommender._markup import html_to_text, looks_like_html

NORMAL = ('<p>Storm hits <em>Calden</em> &amp; the coast; <a href="/x?a=1&amp;b=2" title="a > b">more</a>.</p>'
          "<script>var a = 1 < 2;</script><ul><li>one</li><li>two</li></ul><br/>")

PATTERNS = {
    "<a": "<a",
    "</": "</",
    "<!": "<!",
    "<!--": "<!--",
    "<?": "<?",
    '<a b="': '<a b="',
    "<a b='>": "<a b='>",
    "<script>": "<script>",
    "</script": "<script></script",
    "&#1": "&#1",
    "\\r (no line break)": "\r",
    " \\r": " \r",
    "normal HTML": NORMAL,
}


def _body(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _seconds(call, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def _stdlib(text: str) -> None:
    parser = HTMLParser(convert_charrefs=True)
    try:
        parser.feed(text)
        parser.close()
    except AssertionError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=ArticleLimits().max_body_chars, help="characters per body")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many calls")
    parser.add_argument("--reference", type=int, nargs="*", default=[], help="also time HTMLParser at these sizes")
    args = parser.parse_args()

    header = f"| pattern | html_to_text, {args.size:,} chars (s) | looks_like_html (s) |"
    header += "".join(f" HTMLParser, {n:,} chars (s) |" for n in args.reference)
    print(header)
    print("| --- " * (3 + len(args.reference)) + "|")
    for name, unit in PATTERNS.items():
        body = _body(unit, args.size)
        cells = [_seconds(lambda: html_to_text(body), args.repeats), _seconds(lambda: looks_like_html(body), args.repeats)]
        for n in args.reference:
            small = _body(unit, n)
            cells.append(_seconds(lambda: _stdlib(small), 1))
        print(f"| `{name!r}` | " + " | ".join(f"{cell:.3f}" for cell in cells) + " |")

    body = _body("<a", args.size)
    record = {"id": "x", "title": "t", "body": body, "published_at": "2026-10-03T08:15:00Z"}
    print(f"\nload_articles, one article with a {args.size:,}-character '<a' body: "
          f"{_seconds(lambda: load_articles([record]), args.repeats):.3f} s")


if __name__ == "__main__":
    main()
