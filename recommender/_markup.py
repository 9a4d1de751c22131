"""HTML to plain text, for article bodies and titles that arrive as markup.

Pure: strings in, strings out. The content of ``<script>``, ``<style>``, ``<noscript>``,
``<template>``, ``<head>``, ``<iframe>`` and ``<svg>`` is dropped; block-level elements
become line breaks so paragraphs stay apart; character references are decoded once.

How it works
------------
One forward scan (:func:`_scan`) in the manner of the standard library's tolerant
:class:`html.parser.HTMLParser`, without its worst case: HTMLParser (and a regex such as
``<[A-Za-z][^>]*>``) looks for the closing ``>`` of every unclosed ``<a`` again from the
start, so ``"<a" * n`` costs time quadratic in ``n`` — ten minutes for a 2,000,000-character
body. Here every search starts where the previous construct ended, and a search that fails
(no ``>``, no closing quote, no ``-->``) fails for every later position too, so it is done
at most once: the scan reads each character a bounded number of times, whatever the markup.
Nothing recurses, so deep nesting cannot exhaust the stack. ``benchmarks/bench_markup.py``
times the worst known patterns at the article size limit.

Rules, as in HTMLParser: ``<`` starts markup only before a letter, ``/``, ``!`` or ``?``;
a start tag ends at the first ``>`` outside a quoted attribute value; ``<!--`` ends at
``-->``; other ``<!...>`` and ``<?...>`` are dropped; the text of ``<script>`` and
``<style>`` runs to their end tag. Markup left unclosed at the end is kept as text.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_to_text", "looks_like_html"]

_TAG_OPEN = re.compile(r"<[A-Za-z!/?]")
_TAG_LIKE = re.compile(r"<[A-Za-z!/]")  # what looks_like_html counts as the start of a tag
_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#\d{1,7}|#x[0-9A-Fa-f]{1,6});")
_TAG_NAME = re.compile(r"[A-Za-z][^\t\n\r\f />\x00]*")
_TAG_END_OR_QUOTE = re.compile(r"[>\"']")
_SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "iframe", "svg"})
_RAW_TEXT = frozenset({"script", "style"})  # their text is not markup: it runs to the end tag
_RAW_TEXT_END = {name: re.compile(rf"</\s*{name}\s*>", re.IGNORECASE) for name in _RAW_TEXT}
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
     "blockquote", "section", "article", "header", "footer", "aside", "figure", "figcaption", "hr", "pre"}
)
# runs of spaces and tabs, each to become one space; a lone space is already one (matching it
# at every word gap, to put back the same space, was most of the cost of tidying a body)
_SPACES = re.compile(r" [ \t\f\v\u00a0]+|[\t\f\v\u00a0][ \t\f\v\u00a0]*")
_OTHER_SPACES = ("\t", "\f", "\v", "\u00a0")  # what _SPACES matches besides two spaces
_COMMENT_OPEN, _COMMENT_CLOSE = "<!--", "-->"


def looks_like_html(text: str) -> bool:
    """Whether ``text`` contains a tag or a character entity (linear time).

    A tag is ``<`` before a letter, ``!`` or ``/`` with a ``>`` somewhere after it: the
    first such ``<`` decides, since any later one has fewer ``>`` after it.
    """
    opening = _TAG_LIKE.search(text)
    if opening is not None and text.find(">", opening.end()) >= 0:
        return True
    return _ENTITY.search(text) is not None


class _Scanner:
    """State of one scan: the output parts, the skip depth and the searches known to fail."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: list[str] = []
        self.skip_depth = 0
        self.no_more: set[str] = set()  # strings a search found missing from some position on

    def find(self, needle: str, start: int) -> int:
        """``text.find(needle, start)``, remembering failures (a later start cannot succeed)."""
        if needle in self.no_more:
            return -1
        found = self.text.find(needle, start)
        if found < 0:
            self.no_more.add(needle)
        return found

    def data(self, chunk: str) -> None:
        if chunk and not self.skip_depth:
            self.parts.append(html.unescape(chunk))

    def start_tag_end(self, start: int) -> int:
        """Index of the ``>`` closing the start tag at ``start``, or -1 (quoted values may hold ``>``)."""
        text, position = self.text, start + 1
        while True:
            hit = _TAG_END_OR_QUOTE.search(text, position) if ">" not in self.no_more else None
            if hit is None:
                self.no_more.add(">")
                return -1
            at = hit.start()
            if text[at] == ">":
                return at
            if text[position:at].rstrip().endswith("="):  # a quoted attribute value
                close = self.find(text[at], at + 1)
                if close < 0:  # unclosed quote: the tag ends at the next '>', as in HTMLParser
                    return self.find(">", at + 1)
                position = close + 1
            else:
                position = at + 1

    def tag(self, markup: str, closing: bool) -> str | None:
        name = _TAG_NAME.match(markup, 2 if closing else 1)
        if name is None:
            return None
        name = name.group().lower()
        self_closing = not closing and markup.endswith("/>")
        if name in _SKIPPED and not self_closing:
            self.skip_depth = max(0, self.skip_depth + (-1 if closing else 1))
        elif name in _BLOCKS:
            self.parts.append("\n")
        return None if closing or self_closing else name


def _scan(text: str) -> str:
    scanner = _Scanner(text)
    position, n = 0, len(text)
    while position < n:
        opening = _TAG_OPEN.search(text, position)
        if opening is None:
            break
        start = opening.start()
        scanner.data(text[position:start])
        kind = text[start + 1]
        if text.startswith(_COMMENT_OPEN, start):
            end = scanner.find(_COMMENT_CLOSE, start + len(_COMMENT_OPEN))
            end = end + len(_COMMENT_CLOSE) - 1 if end >= 0 else scanner.find(">", start + 2)
        elif kind in "!?/":
            end = scanner.find(">", start + 2)
        else:
            end = scanner.start_tag_end(start)
        if end < 0:  # unclosed: the rest is text
            position = start
            break
        position = end + 1
        raw_text = None
        if kind == "/":
            scanner.tag(text[start:position], closing=True)
        elif kind not in "!?":
            raw_text = scanner.tag(text[start:position], closing=False)
        if raw_text in _RAW_TEXT:
            closing_tag = _RAW_TEXT_END[raw_text].search(text, position)
            if closing_tag is None:  # the rest is script or style text: dropped
                position = n
                break
            scanner.skip_depth = max(0, scanner.skip_depth - 1)
            position = closing_tag.end()
    scanner.data(text[position:])
    return "".join(scanner.parts)


def _tidy(text: str) -> str:
    """Spaces collapsed; each whitespace run holding a line break becomes one line break."""
    if "  " in text or any(space in text for space in _OTHER_SPACES):  # else nothing to collapse: skip the scan
        text = _SPACES.sub(" ", text)
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(text: str) -> str:
    """Return the readable text of an HTML fragment.

    Text without markup is returned with only its whitespace tidied. Time is linear in the
    length of ``text``, whatever it holds.

    Parameters
    ----------
    text : str
        An HTML fragment or plain text.

    Returns
    -------
    str
        Plain text; paragraphs separated by single newlines.

    Examples
    --------
    >>> html_to_text("<p>Storm hits <em>Calden</em> &amp; coast</p><script>x()</script><p>More</p>")
    'Storm hits Calden & coast\\nMore'
    """
    if looks_like_html(text):
        text = _scan(text)
    return _tidy(text)
