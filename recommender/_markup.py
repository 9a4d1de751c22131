"""HTML to plain text, for article bodies and titles that arrive as markup.

Pure: strings in, strings out. Uses the standard library's tolerant
:class:`html.parser.HTMLParser`, which never recurses, so deeply nested or
broken markup costs linear time and cannot exhaust the stack. The content of
``<script>``, ``<style>``, ``<noscript>``, ``<template>`` and ``<head>`` is dropped;
block-level elements become line breaks so paragraphs stay apart.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["html_to_text", "looks_like_html"]

_TAG_OR_ENTITY = re.compile(r"<[A-Za-z!/][^>]*>|&(?:[A-Za-z]{2,8}|#\d{1,7}|#x[0-9A-Fa-f]{1,6});")
_SKIPPED = frozenset({"script", "style", "noscript", "template", "head", "iframe", "svg"})
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
     "blockquote", "section", "article", "header", "footer", "aside", "figure", "figcaption", "hr", "pre"}
)
_SKIPPED_BLOCK = re.compile(r"<(script|style|noscript|template|head|iframe|svg)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_ANY_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def looks_like_html(text: str) -> bool:
    """Whether ``text`` contains a tag or a character entity."""
    return _TAG_OR_ENTITY.search(text) is not None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    """Return the readable text of an HTML fragment.

    Text without markup is returned with only its whitespace tidied.

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
        parser = _TextExtractor()
        try:
            parser.feed(text)
            parser.close()
            text = "".join(parser.parts)  # character references already decoded, once
        except AssertionError:  # _markupbase rejects some malformed declarations ("<![ x ]>")
            text = html.unescape(_ANY_TAG.sub(" ", _SKIPPED_BLOCK.sub(" ", text)))
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()
