"""Text analysis: boilerplate removal and tokenising for article titles and bodies.

How it works
------------
News bodies carry text that says nothing about the story but makes unrelated stories
look alike: wire datelines (``"SEOUL, South Korea (AP) — "``), bylines, copyright lines,
``"Related: ..."`` link blocks scraped along with the body. :func:`strip_boilerplate`
removes them line by line; :func:`tokenize` then lower-cases the text and splits it
into word tokens of two or more letters or digits (the rule of scikit-learn's default
``token_pattern``), dropping English stop words when asked.

Everything here is pure: strings in, strings or token lists out.
"""

from __future__ import annotations

import re
import unicodedata

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

__all__ = ["ENGLISH_STOP_WORDS", "analyze", "prepare", "strip_boilerplate", "tokenize"]

# "HARBORVIEW, Calden (NWS) — ", "LONDON (Reuters) - ", "PARIS, Oct. 3 (AFP) -- ", "WASHINGTON — ".
# A plain hyphen only counts after an agency in parentheses: "US - China talks" is a sentence.
_PLACE = r"^\s*[A-Z][A-Z .'\-]{1,40}(?:,\s*[A-Z][\w .'\-]{1,40})?(?:,\s*[A-Z][a-z]{2,4}\.? \d{1,2})?\s*"
_DATELINE = re.compile(_PLACE + r"(?:\([A-Za-z .&\-]{1,30}\)\s*(?:—|–|--|-)|—|–|--)\s+")
_BOILERPLATE_LINE = re.compile(
    r"^\s*(?:(?:copyright\s*(?:©|\(c\))?|©|\(c\))\s*\d{4}\b.{0,120}$"
    r"|.{0,80}all rights reserved\.?\s*$"
    r"|(?:related|read more|see also|ranking|most read|recommended)\s*:.*$"
    r"|this (?:article|story) (?:was|has been) (?:updated|corrected).{0,200}$)",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^\s*By [A-Z][\w.'\-]+(?: [A-Z][\w.'\-]+){1,3}(?:(?:,| -| —) [A-Z][\w .]{0,40})?\s*$")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# what may precede a sentence's first word: an end mark, a quote or bracket, a line start
_SENTENCE_START = re.compile(r"[.!?:;\"'\u201c\u201d(\[\n]\s*$|^\s*$")


def strip_boilerplate(text: str) -> str:
    """Remove wire datelines, bylines, copyright and related-links lines.

    Parameters
    ----------
    text : str
        Plain-text body, paragraphs separated by newlines.

    Returns
    -------
    str

    Examples
    --------
    >>> strip_boilerplate("HARBORVIEW, Calden (NWS) — The storm hit.\\nCopyright 2026 NWS. All rights reserved.")
    'The storm hit.'
    """
    lines = [line for line in text.split("\n") if not (_BOILERPLATE_LINE.match(line) or _BYLINE.match(line))]
    if lines:
        lines[0] = _DATELINE.sub("", lines[0], count=1)
    return "\n".join(lines).strip()


def prepare(text: str, *, boilerplate: bool = True) -> str:
    """Normalise Unicode (NFKC), strip boilerplate (bodies, not titles) and lower-case."""
    text = unicodedata.normalize("NFKC", text)
    return (strip_boilerplate(text) if boilerplate else text).lower()


def analyze(
    text: str,
    *,
    boilerplate: bool = True,
    stop_words: frozenset[str] | None = None,
    proper_noun_weight: int = 1,
) -> list[str]:
    """Tokens of a title or body: NFKC, boilerplate stripped (``boilerplate=True``),
    lower-cased, stop words dropped, and each *proper noun* repeated ``proper_noun_weight``
    times.

    A proper noun is a token that starts with a capital letter, is not all capitals and does
    not open a sentence: the names and places that tell one story from another.

    Examples
    --------
    >>> analyze("The strike in Calden ended. Dock workers cheered.", stop_words=ENGLISH_STOP_WORDS,
    ...         proper_noun_weight=2)
    ['strike', 'calden', 'calden', 'ended', 'dock', 'workers', 'cheered']
    """
    text = unicodedata.normalize("NFKC", text)
    if boilerplate:
        text = strip_boilerplate(text)
    if proper_noun_weight <= 1:
        return tokenize(text.lower(), stop_words=stop_words)
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        lower = word.lower()
        if stop_words and lower in stop_words:
            continue
        tokens.append(lower)
        start = match.start()
        if word[0].isupper() and not word.isupper() and not _SENTENCE_START.search(text[max(0, start - 3):start]):
            tokens.extend([lower] * (proper_noun_weight - 1))
    return tokens


def tokenize(text: str, *, stop_words: frozenset[str] | None = None) -> list[str]:
    """Split prepared text into word tokens, dropping ``stop_words``.

    Examples
    --------
    >>> tokenize("the port strike ends", stop_words=ENGLISH_STOP_WORDS)
    ['port', 'strike', 'ends']
    """
    tokens = _TOKEN.findall(text)
    if stop_words:
        return [token for token in tokens if token not in stop_words]
    return tokens
