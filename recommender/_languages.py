"""Languages: which ones the text analysis knows, how their codes are written, and their stop words.

How it works
------------
An article's ``language`` field holds a code such as ``"es"``, ``"EN"``, ``"en-GB"`` or
``"pt_BR"``; :func:`normalize_language` reduces it to the ISO 639-1 code of its primary
subtag (``"en"``, ``"pt"``), and also accepts the Snowball names (``"spanish"``). A language
is *supported* when a Snowball stemmer exists for it (:data:`LANGUAGES`: 34 languages);
anything else raises ``ValueError``, which callers turn into an error naming the article.

Each language is analysed with its own stop words (:func:`stop_words_of`): scikit-learn's list
for English (so English analysis is what it always was), the Snowball project's list for the 15
other languages it publishes one for (:mod:`._stop_words`), and none for the rest, where
inverse document frequency alone weighs the function words down.

Pure computation: strings in, strings or sets out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from ._stop_words import SNOWBALL_STOP_WORDS
from .exceptions import InvalidInputError

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "article_languages", "normalize_language", "stop_words_of"]

DEFAULT_LANGUAGE = "en"
"""The language of an article that names none, unless the model's ``language`` option says otherwise."""

LANGUAGES: dict[str, str] = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "eo": "esperanto", "es": "spanish", "et": "estonian", "eu": "basque", "fa": "persian",
    "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi", "hu": "hungarian", "hy": "armenian",
    "id": "indonesian", "it": "italian", "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "st": "sesotho",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
"""ISO 639-1 code -> Snowball stemmer name, for every language the analysis supports."""

_ALIASES = {"nb": "no", "nn": "no"} | {name: code for code, name in LANGUAGES.items()}
_TAG = re.compile(r"[a-z]{2,8}(?:[-_][a-z0-9]{1,8})*")

CAPITALISED_NOUNS = frozenset({"de"})
"""Languages that capitalise every noun, where a capital letter does not mark a name (so
``proper_noun_weight`` does not apply to them)."""


@cache
def normalize_language(value: str) -> str:
    """The ISO 639-1 code of a language tag: ``"EN"``, ``"en-GB"``, ``"en_GB"``, ``"english"`` -> ``"en"``.

    Raises
    ------
    ValueError
        Not a language tag, or a language no Snowball stemmer covers; the message lists the codes.

    Examples
    --------
    >>> normalize_language("pt-BR"), normalize_language("Spanish"), normalize_language("nb")
    ('pt', 'es', 'no')
    """
    if not isinstance(value, str):
        raise ValueError(f"language must be a string such as 'en' or 'es-MX', got {type(value).__name__}")
    tag = value.strip().lower()
    if not _TAG.fullmatch(tag):
        raise ValueError(f"language {value!r} is not a language tag such as 'en' or 'es-MX'")
    primary = re.split(r"[-_]", tag, maxsplit=1)[0]
    code = _ALIASES.get(primary, primary)
    if code not in LANGUAGES:
        raise ValueError(f"language {value!r} is not supported; supported codes: {', '.join(sorted(LANGUAGES))}")
    return code


@cache
def stop_words_of(code: str) -> frozenset[str]:
    """The stop words of a supported language code (an empty set for a language without a list).

    Examples
    --------
    >>> "und" in stop_words_of("de"), "the" in stop_words_of("en"), len(stop_words_of("tr"))
    (True, True, 0)
    """
    if code == "en":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # as _text.english_stop_words: on first use

        return ENGLISH_STOP_WORDS
    return frozenset(SNOWBALL_STOP_WORDS.get(code, "").split())


def article_languages(ids: Sequence[str], languages: Sequence[Any], *, default: str,
                      multilingual: bool) -> list[str]:
    """The analysis language of each article: its own ``language`` normalised, ``default`` when
    it names none (or for every article with ``multilingual=False``).

    Raises
    ------
    InvalidInputError
        Naming the first article whose language is not supported.
    """
    if not multilingual:
        return [default] * len(ids)
    resolved = []
    for article_id, language in zip(ids, languages):
        if language is None:
            resolved.append(default)
            continue
        try:
            resolved.append(normalize_language(language))
        except ValueError as error:
            raise InvalidInputError(f"{error}; fix the article's language field, or fit with multilingual=False "
                                    f"to analyse every article in the model's language", record_id=article_id) from None
    return resolved
