"""Text analysis: boilerplate removal and tokenising for article titles and bodies.

How it works
------------
News bodies carry text that says nothing about the story but makes unrelated stories
look alike: wire datelines (``"SEOUL, South Korea (AP) — "``), bylines, copyright lines,
``"Related: ..."`` link blocks scraped along with the body. :func:`strip_boilerplate`
removes them line by line; :func:`tokenize` then lower-cases the text and splits it
into word tokens of two or more letters or digits (the rule of scikit-learn's default
``token_pattern``), dropping stop words when asked. :class:`StemCache` maps tokens to their
Snowball stems in one language (English by default: ``strikes``, ``striking`` -> ``strike``),
stemming each distinct word once.

Languages other than English keep combining marks inside words (:func:`token_pattern`):
Hindi, Nepali or Tamil vowel signs are marks, not letters, and would otherwise cut words apart.

Everything here is pure: strings in, strings or token lists out.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache, lru_cache

from ._languages import LANGUAGES
from .exceptions import InvalidOptionError, StemmerUnavailableError

__all__ = ["StemCache", "analyze", "english_stop_words", "strip_boilerplate", "token_pattern",
           "tokenize"]


@cache
def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop-word list, imported on first use.

    scikit-learn costs a process about 80 MB and 0.7 s to import; a serving process that
    only looks up lists of indexed articles never tokenises, so it never pays that.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS


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
# scikit-learn's default token pattern, r"(?u)\b\w\w+\b", without its word boundaries: a greedy run
# of word characters starts and ends at one anyway, and the boundary checks were a fifth of tokenising
_TOKEN = re.compile(r"(?u)\w\w+")
_MARK_CATEGORIES = ("Mn", "Mc", "Me")  # combining marks: vowel signs, viramas, diacritics
# what may precede a sentence's first word: an end mark, a quote or bracket, a line start
_AFTER_MARK = re.compile(r"[.!?:;\"'\u201c\u201d(\[\n]\s*$")
_SENTENCE_START = re.compile(_AFTER_MARK.pattern + r"|^\s*$")


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


@cache
def token_pattern(language: str = "en") -> re.Pattern:
    """The word pattern of a language: runs of two or more letters or digits, plus, outside
    English, the combining marks inside words.

    Examples
    --------
    >>> token_pattern("hi").findall("नमस्ते दुनिया"), token_pattern("en").findall("नमस्ते")
    (['नमस्ते', 'दुनिया'], ['नमस'])
    """
    if language == "en":
        return _TOKEN
    return re.compile(f"(?u){_word_class(language)}{{2,}}")


@cache
def _word_class(language: str) -> str:
    """The characters of a token of ``language``, as a regex: ``\\w``, and outside English the
    combining marks too."""
    if language == "en":
        return r"\w"
    points = [point for point in (*range(0x300, 0x20000), *range(0xE0100, 0xE01F0))  # where marks are
              if unicodedata.category(chr(point)) in _MARK_CATEGORIES]
    starts = [point for i, point in enumerate(points) if i == 0 or points[i - 1] != point - 1]
    ends = [point for i, point in enumerate(points) if i == len(points) - 1 or points[i + 1] != point + 1]
    marks = "".join(f"{re.escape(chr(start))}-{re.escape(chr(end))}" for start, end in zip(starts, ends))
    return f"[\\w{marks}]"


def analyze(
    text: str,
    *,
    boilerplate: bool = True,
    stop_words: frozenset[str] | None = None,
    proper_noun_weight: int = 1,
    language: str = "en",
) -> list[str]:
    """Tokens of a title or body: NFKC, boilerplate stripped (``boilerplate=True``),
    lower-cased, stop words dropped, and each *proper noun* counted ``proper_noun_weight``
    times.

    A proper noun is a token that starts with a capital letter, is not all capitals and does
    not open a sentence: the names and places that tell one story from another. Its extra
    copies follow the text's tokens (the order of the tokens' first occurrences is the text's).

    Examples
    --------
    >>> analyze("The strike in Calden ended. Dock workers cheered.", stop_words=english_stop_words(),
    ...         proper_noun_weight=2)
    ['strike', 'calden', 'ended', 'dock', 'workers', 'cheered', 'calden']
    """
    text = unicodedata.normalize("NFKC", text)
    if boilerplate:
        text = strip_boilerplate(text)
    plain = _ascii_words(text, language)
    if plain is None:  # letters or marks beyond ASCII: the token pattern, one match at a time
        return _analyze_by_pattern(text, stop_words, proper_noun_weight, language)
    dropped = _dropped(stop_words)
    tokens = [word for word in plain.encode("ascii").translate(_LOWER_WORDS).decode("ascii").split()
              if word not in dropped]
    if proper_noun_weight > 1:
        names = [lower for name in _NAME.findall(text) if (lower := name.lower()) not in dropped]
        tokens.extend(names * (proper_noun_weight - 1))
    return tokens


def _analyze_by_pattern(text: str, stop_words: frozenset[str] | None, proper_noun_weight: int,
                        language: str) -> list[str]:
    """:func:`analyze` of prepared text by the token pattern, for any text."""
    if proper_noun_weight <= 1:
        return tokenize(text.lower(), stop_words=stop_words, language=language)
    # the text split around its tokens: separator, token, separator, token, ..., separator
    parts = _token_splitter(language).split(text)
    repeat = proper_noun_weight - 1
    tokens: list[str] = []
    names: list[str] = []
    for position in range(1, len(parts), 2):
        word = parts[position]
        lower = word.lower()
        if stop_words and lower in stop_words:
            continue
        tokens.append(lower)
        if word[0].isupper() and not word.isupper() and not _opens_sentence(parts[position - 1], position == 1):
            names.append(lower)
    tokens.extend(names * repeat)
    return tokens


def _opens_sentence(before: str, first: bool) -> bool:
    """Whether a word preceded by the separator ``before`` opens a sentence: whether the three
    characters before it end in an end mark, a quote or bracket and spaces, or are all space.
    A separator of fewer than three characters after an earlier token has that token's
    letters before it, which are neither marks nor space."""
    if first or len(before) >= 3:
        return _SENTENCE_START.search(before[-3:]) is not None
    return _AFTER_MARK.search(before) is not None


@cache
def _token_splitter(language: str) -> re.Pattern:
    """:func:`token_pattern` as one group, so ``split`` returns the tokens between their separators."""
    pattern = token_pattern(language)
    return re.compile(f"({pattern.pattern.removeprefix('(?u)')})", pattern.flags)


# Text whose word characters are all ASCII (most news, even with curly quotes and dashes) is
# tokenised without the regex: its other characters become spaces in one translate and
# ``split`` cuts the words, a third of the time of the token pattern's matches.
_ASCII_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_LOWER_WORDS = bytes(byte if byte in _ASCII_WORD else 32 for byte in range(256)).lower()  # a translate table
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A proper noun in text of ASCII words (see analyze), the sentence rule of _opens_sentence read
# as lookbehinds on the three characters before the capital: not a word character just before
# it; no end mark, quote or bracket followed by up to two spaces; not all space.
_MARK = _AFTER_MARK.pattern[:_AFTER_MARK.pattern.index("]") + 1]
_NAME = re.compile(rf"[A-Z](?<!\w.)(?<!{_MARK}.)(?<!{_MARK}\s.)(?<!{_MARK}\s\s.)"
                   r"(?:(?<=\S.)|(?<=\S..)|(?<=\S...))[A-Z0-9_]*[a-z]\w*", re.DOTALL)


def _ascii_words(text: str, language: str) -> str | None:
    """``text`` as ASCII, when its characters beyond ASCII can be in no word of ``language``
    (dashes, curly quotes...): those become spaces. ``None`` when one can (letters, marks).

    No character outside a word has a lower case inside one (checked over all of Unicode in
    the tests), so the lower-cased text has the same words.
    """
    if text.isascii():
        return text
    if _non_ascii_word_character(language).search(text):
        return None
    return _NON_ASCII.sub(" ", text)


@cache
def _non_ascii_word_character(language: str) -> re.Pattern:
    """A character beyond ASCII that can be in a token of ``language``."""
    return re.compile(f"(?![\\x00-\\x7f]){_word_class(language)}")


@lru_cache(maxsize=64)
def _dropped(stop_words: frozenset[str] | None) -> frozenset[str]:
    """Words :func:`analyze` drops from ASCII text: stop words and single characters."""
    return frozenset(chr(byte).lower() for byte in _ASCII_WORD) | (stop_words or frozenset())


def tokenize(text: str, *, stop_words: frozenset[str] | None = None, language: str = "en") -> list[str]:
    """Split prepared text into word tokens (:func:`token_pattern`), dropping ``stop_words``.

    Examples
    --------
    >>> tokenize("the port strike ends", stop_words=english_stop_words())
    ['port', 'strike', 'ends']
    """
    tokens = token_pattern(language).findall(text)
    if stop_words:
        return [token for token in tokens if token not in stop_words]
    return tokens


def _snowball_stemmer(algorithm: str) -> tuple[Callable[[list[str]], list[str]], str]:
    """``stemWords`` of a Snowball stemmer (``"english"``, ``"spanish"``...) and the name of the
    package that gives it."""
    try:
        import Stemmer  # PyStemmer: the C libstemmer
    except ImportError:
        pass
    else:
        if algorithm in Stemmer.algorithms():
            stemmer = Stemmer.Stemmer(algorithm)
            stemmer.maxCacheSize = 0  # StemCache memoises; a second cache would only cost memory
            return stemmer.stemWords, "PyStemmer"
    try:
        import snowballstemmer  # the same algorithm in pure Python, several times slower
    except ImportError:
        raise StemmerUnavailableError(
            f"stemming (stem=True) in {algorithm} needs PyStemmer or snowballstemmer with a {algorithm} stemmer: "
            "pip install -U PyStemmer, or pass stem=False"
        ) from None
    if algorithm not in snowballstemmer.algorithms():
        raise StemmerUnavailableError(f"the installed stemmers have no {algorithm} algorithm: pip install -U "
                                      "PyStemmer, or pass stem=False")
    return snowballstemmer.stemmer(algorithm).stemWords, "snowballstemmer"


class StemCache:
    """Snowball stems of lower-case words in one language, each distinct word stemmed once.

    A callable: a list of words in, the list of their stems out. Stems are memoised in a
    dict, so a word seen before costs one lookup; the unseen words of a call are stemmed
    together in one batch. Safe to share between threads.

    Parameters
    ----------
    max_size : int, default=1_000_000
        Most words memoised. When a batch of unseen words would go past it, the memo is
        emptied and starts again; this bounds memory when arbitrary text keeps arriving.
    language : str, default="en"
        An ISO 639-1 code of :data:`~recommender._languages.LANGUAGES` (English: Porter2).

    Attributes
    ----------
    backend : str
        The package doing the stemming: ``"PyStemmer"``, or ``"snowballstemmer"`` when
        PyStemmer cannot be imported.

    Raises
    ------
    StemmerUnavailableError
        Neither PyStemmer nor snowballstemmer (with this language) is installed (an :class:`ImportError`).

    Examples
    --------
    >>> stem = StemCache()
    >>> stem(["strike", "strikes", "striking", "companies", "calden"])
    ['strike', 'strike', 'strike', 'compani', 'calden']
    >>> len(stem)  # distinct words memoised
    5
    """

    def __init__(self, max_size: int = 1_000_000, language: str = "en") -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise InvalidOptionError(f"max_size must be a positive integer, got {max_size!r}")
        if language not in LANGUAGES:
            raise InvalidOptionError(f"language must be one of {', '.join(sorted(LANGUAGES))}, got {language!r}")
        self.max_size, self.language = max_size, language
        self._stem_words, self.backend = _snowball_stemmer(LANGUAGES[language])
        self._memo: dict[str, str] = {}
        self._lock = threading.Lock()  # neither stemmer object is thread-safe

    def __len__(self) -> int:
        return len(self._memo)

    def __call__(self, words: Sequence[str]) -> list[str]:
        """Stems of ``words``, in order.

        Parameters
        ----------
        words : sequence of str
            Lower-case words (NFC/NFKC), as :func:`analyze` returns them.

        Returns
        -------
        list of str
        """
        memo = self._memo
        try:
            return list(map(memo.__getitem__, words))  # the common case: every word seen before
        except KeyError:
            pass
        with self._lock:
            unseen = [word for word in dict.fromkeys(words) if word not in memo]
            # a stem equal to its word (names, most short words) shares the word's string
            fresh = {word: word if stem == word else stem for word, stem in zip(unseen, self._stem_words(unseen))}
            stems = [fresh[word] if word in fresh else memo[word] for word in words]
            if len(fresh) <= self.max_size:
                if len(memo) + len(fresh) > self.max_size:
                    memo.clear()
                memo.update(fresh)
        return stems
