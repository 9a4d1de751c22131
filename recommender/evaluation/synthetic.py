"""Synthetic news corpora with known story clusters, for tests, benchmarks and demos.

How it works
------------
:func:`generate_articles` streams article dicts in the library's input format (``id``,
``title``, ``body``, ``published_at``, ``section``, ``tags``) plus a ground-truth ``story``
key (``None`` for a stand-alone article; the library ignores unknown keys). The text is
made of pseudo-words built from syllables, with the statistics real news text has:

* **Zipf's law**: content words are drawn from a Zipf-Mandelbrot distribution over a
  fixed general vocabulary (frequent words are short), mixed with English function words
  (``the``, ``of``...) that the analyser removes, as in real text.
* **Heaps' law**: people and places are drawn from an unbounded heavy-tailed pool, so the
  vocabulary keeps growing with the corpus size, as rare names do in an archive.
* **Lengths**: body lengths are lognormal around ``median_words``; 8 sections of unequal size,
  each with its own topical words; timestamps spread over ``days``.
* **Stories**: a share of articles belongs to stories of 2-30 articles published within a
  few days of each other. Articles of one story share rare event terms (the names and places
  in the news) and a few theme words, mixed into otherwise generic text, so a Related list
  can be scored against the known ``story`` labels.

The same arguments give the same articles, in the same order (chronological). Articles are
generated in chunks with numpy; only per-article integers (time, story) are planned up
front, so a million articles stream in bounded memory. Pure computation: no file I/O
(``benchmarks/generate_corpus.py`` writes JSONL files).

Examples
--------
>>> articles = list(generate_articles(50, seed=1))
>>> sorted(articles[0])
['body', 'id', 'published_at', 'section', 'story', 'tags', 'title']
>>> articles == list(generate_articles(50, seed=1))
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

import numpy as np

from ..exceptions import InvalidOptionError
from .._text import english_stop_words

__all__ = ["SECTIONS", "generate_articles", "generate_reactions"]

SECTIONS = ("politics", "business", "world", "sport", "local", "technology", "culture", "science")
_SECTION_WEIGHTS = np.array([0.20, 0.16, 0.16, 0.15, 0.12, 0.08, 0.07, 0.06])
_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "br", "ch", "dr", "gr", "pl", "sh", "st", "tr")
_VOWELS = "aeiou"
_CODAS = ("", "n", "r", "l", "s", "m")
_SYLLABLES = tuple(onset + vowel for onset in _ONSETS for vowel in _VOWELS)  # parse back uniquely: C+V
# Names end in z/x, places in w/y/j: letters general words never use, so the three never collide.
_NAME_ENDS = tuple(v + end for v in _VOWELS for end in ("z", "x", "zan", "xel", "zor", "xim"))
_PLACE_ENDS = tuple(v + end for v in _VOWELS for end in ("wick", "by", "ley", "wyn", "jor", "way"))
_HEAD_FUNCTION = ("the", "of", "and", "to", "in", "is", "that", "for", "on", "was", "with", "it", "as", "at", "by", "from")
_GENERAL, _FUNCTION, _NAME, _PLACE = 0, 1, 2, 3
_SHIFT = 48  # token code = namespace << 48 | id
_CHUNK = 512
_EVENT_NAMES, _EVENT_PLACES, _STORY_THEMES, _ARTICLE_THEMES = 3, 2, 8, 6
# Content-token mix: general, section topic, recurring name, article theme, story theme, story event.
_BODY_MIX = np.array([0.745, 0.12, 0.03, 0.04, 0.04, 0.025])
_TITLE_MIX = np.array([0.35, 0.12, 0.08, 0.15, 0.15, 0.15])


def _word(digits: list[int], end: str) -> str:
    return "".join(_SYLLABLES[d] for d in digits) + end


def _bijective_word(value: int, end: str) -> str:
    """The pseudo-word of ``value`` (bijective base-|syllables| digits: every value its own word) + ``end``."""
    digits = []
    value += 1
    while value > 0:
        value, digit = divmod(value - 1, len(_SYLLABLES))
        digits.append(digit)
    return _word(digits[::-1], end)


def _general_vocabulary(size: int) -> np.ndarray:
    """``size`` distinct pseudo-words: a fixed language whose frequent (low) ranks are shortest."""
    rng = np.random.default_rng(20261003)
    words: list[str] = []
    syllables = 1
    while len(words) < size:
        count = len(_SYLLABLES) ** syllables * len(_CODAS)
        for i in rng.choice(count, size=min(count, size - len(words)), replace=False).tolist():
            i, coda = divmod(i, len(_CODAS))
            digits = []
            for _ in range(syllables):
                i, digit = divmod(i, len(_SYLLABLES))
                digits.append(digit)
            words.append(_word(digits, _CODAS[coda]))
        syllables += 1
    return np.array(words, dtype=object)


def _function_words() -> np.ndarray:
    """English function words (removed by the analyser), the most frequent first."""
    stop_words = english_stop_words()
    rest = sorted(w for w in stop_words if w not in _HEAD_FUNCTION)
    rest = [rest[i] for i in np.random.default_rng(7).permutation(len(rest))]
    return np.array([w for w in _HEAD_FUNCTION if w in stop_words] + rest, dtype=object)


def _zipf_cdf(size: int, exponent: float, offset: float) -> np.ndarray:
    """Cumulative Zipf-Mandelbrot probabilities of ranks ``0..size-1``: ``p(r) ~ 1 / (r + 1 + offset)^exponent``."""
    cdf = np.cumsum(1.0 / (np.arange(1, size + 1) + offset) ** exponent)
    return cdf / cdf[-1]


def _draw(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    return np.searchsorted(cdf, uniform, side="right").clip(0, cdf.size - 1)


def _recurring_names(uniform: np.ndarray) -> np.ndarray:
    """Name numbers from a Lomax (Pareto II) law: a few public figures, an endless tail (Heaps' law)."""
    return np.minimum(200.0 * (np.maximum(uniform, 1e-12) ** (-1 / 0.8) - 1.0), 2.0**40).astype(np.int64)


def _plan(n: int, rng: np.random.Generator, span: float, story_share: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Publication offsets (seconds, ascending) and story numbers (-1: stand-alone) of every article."""
    sizes_all = np.arange(2, 31)
    weights = sizes_all ** -1.5
    sizes = rng.choice(sizes_all, size=max(1, n // 2), p=weights / weights.sum())
    target = int(story_share * n)
    sizes = sizes[np.cumsum(sizes) <= target]
    n_stories = sizes.size
    story = np.full(n, -1, dtype=np.int64)
    story[: sizes.sum()] = np.repeat(np.arange(n_stories), sizes)
    duration = rng.lognormal(np.log(1.5 * 86400), 0.8, n_stories)
    start = rng.random(n_stories) * span
    times = rng.random(n) * span
    in_story = story >= 0
    offsets = rng.exponential(1.0, in_story.sum()) * duration[story[in_story]]
    if n_stories:
        offsets[np.r_[0, np.cumsum(sizes)[:-1]]] = 0.0  # each story's first article opens it
    late = np.zeros(n_stories)
    np.maximum.at(late, story[in_story], offsets)
    start = np.minimum(start, np.maximum(span - late, 0.0))
    times[in_story] = np.minimum(start[story[in_story]] + offsets, span)
    order = np.lexsort((story, times))
    return times[order], story[order], n_stories


class _World:
    """What stays fixed for one corpus: the language, the sections' topics and every story's terms."""

    def __init__(self, rng: np.random.Generator, n_stories: int, vocabulary_size: int) -> None:
        self.general, self.function = _general_vocabulary(vocabulary_size), _function_words()
        self.general_cdf = _zipf_cdf(vocabulary_size, 1.05, 30.0)
        self.topic_cdf = _zipf_cdf(400, 1.0, 5.0)
        self.function_cdf = _zipf_cdf(len(self.function), 1.0, 0.5)
        self.themes = (np.log(300), np.log(vocabulary_size))  # theme words: log-uniform over these ranks
        self.section_topics = rng.integers(200, vocabulary_size // 2, size=(len(SECTIONS), 400))
        rows = max(n_stories, 1)  # a spare row keeps the lookups of stand-alone articles in bounds
        self.story_sections = rng.choice(len(SECTIONS), size=rows, p=_SECTION_WEIGHTS)
        self.story_themes = np.exp(rng.uniform(*self.themes, (rows, _STORY_THEMES))).astype(np.int64)
        numbers = np.arange(rows)[:, None]
        self.story_events = np.hstack([  # own names and places, plus a public figure who recurs across stories
            (_NAME << _SHIFT) | (2 * (numbers * _EVENT_NAMES + np.arange(_EVENT_NAMES - 1)) + 1),
            (_NAME << _SHIFT) | (2 * _recurring_names(rng.random((rows, 1)))),
            (_PLACE << _SHIFT) | (numbers * _EVENT_PLACES + np.arange(_EVENT_PLACES)),
        ])
        self._names: dict[int, str] = {}

    def strings(self, codes: np.ndarray) -> np.ndarray:
        """Words of token codes (object array)."""
        namespace, ids = codes >> _SHIFT, codes & ((1 << _SHIFT) - 1)
        out = np.empty(codes.size, dtype=object)
        out[namespace == _GENERAL] = self.general[ids[namespace == _GENERAL]]
        out[namespace == _FUNCTION] = self.function[ids[namespace == _FUNCTION]]
        if len(self._names) > 500_000:
            self._names.clear()
        for space, ends in ((_NAME, _NAME_ENDS), (_PLACE, _PLACE_ENDS)):
            where = np.flatnonzero(namespace == space)
            for code, value in zip(codes[where].tolist(), ids[where].tolist()):
                if code not in self._names:
                    self._names[code] = _bijective_word(value // len(ends), ends[value % len(ends)]).capitalize()
            out[where] = [self._names[code] for code in codes[where].tolist()]
        return out

    def chunk(self, rng: np.random.Generator, story: np.ndarray, median_words: float, sigma: float) -> dict[str, list]:
        """Sections, titles, bodies and tags of consecutive articles whose story numbers are ``story``."""
        m, known = story.size, np.maximum(story, 0)
        drawn = rng.choice(len(SECTIONS), size=m, p=_SECTION_WEIGHTS)
        articles = {
            "story": story,
            "section": np.where(story >= 0, self.story_sections[known], drawn),
            "own_themes": np.exp(rng.uniform(*self.themes, (m, _ARTICLE_THEMES))).astype(np.int64),
            "story_themes": self.story_themes[known],
            "events": self.story_events[known],
        }
        body_lengths = np.clip(np.rint(rng.lognormal(np.log(median_words), sigma, m)), 5, 50 * median_words)
        title_lengths = rng.integers(5, 12, m)
        bodies = self._texts(rng, articles, body_lengths.astype(np.int64), _BODY_MIX, 0.45, sentences=True)
        titles = self._texts(rng, articles, title_lengths, _TITLE_MIX, 0.15, sentences=False)
        tag_codes = articles["events"][:, [0, _EVENT_NAMES]]
        tags = [self.strings(tag_codes[i]).tolist() if story[i] >= 0 else [SECTIONS[articles["section"][i]]] for i in range(m)]
        return {"section": [SECTIONS[s] for s in articles["section"].tolist()], "title": titles, "body": bodies, "tags": tags}

    def _codes(self, rng, articles: dict, article: np.ndarray, mix: np.ndarray, function_share: float) -> np.ndarray:
        """Token codes, one per entry of ``article`` (the article each token belongs to)."""
        m = article.size
        kind = _draw(np.cumsum(mix / mix.sum()), rng.random(m))  # see _BODY_MIX
        kind[(kind >= 4) & (articles["story"][article] < 0)] = 3  # stand-alone: its own themes instead of a story's
        kind[rng.random(m) < function_share] = 6
        pick = rng.random(m)
        slot = (pick * 64).astype(np.int64)
        codes = np.empty(m, dtype=np.int64)
        for value in range(7):
            at = np.flatnonzero(kind == value)
            here, u = article[at], pick[at]
            if value == 0:
                codes[at] = _draw(self.general_cdf, u)
            elif value == 1:
                codes[at] = self.section_topics[articles["section"][here], _draw(self.topic_cdf, u)]
            elif value == 2:
                codes[at] = (_NAME << _SHIFT) | (2 * _recurring_names(u))
            elif value == 3:
                codes[at] = articles["own_themes"][here, slot[at] % _ARTICLE_THEMES]
            elif value == 4:
                codes[at] = articles["story_themes"][here, slot[at] % _STORY_THEMES]
            elif value == 5:
                codes[at] = articles["events"][here, slot[at] % articles["events"].shape[1]]
            else:
                codes[at] = (_FUNCTION << _SHIFT) | _draw(self.function_cdf, u)
        return codes

    def _texts(self, rng, articles: dict, lengths: np.ndarray, mix: np.ndarray, function_share: float, *,
               sentences: bool) -> list[str]:
        """One text of ``lengths[i]`` words per article: sentences and paragraphs, or a headline."""
        codes = self._codes(rng, articles, np.repeat(np.arange(lengths.size), lengths), mix, function_share)
        unique, inverse = np.unique(codes, return_inverse=True)
        plain = self.strings(unique)
        capital = np.array([w[:1].upper() + w[1:] for w in plain.tolist()], dtype=object)
        ends = np.cumsum(lengths)
        firsts = ends - lengths
        if sentences:  # sentences of 16 words on average, paragraphs of 4 sentences
            stop = rng.random(codes.size) < 1 / 16
            stop[ends - 1] = True
            paragraph = stop & (rng.random(codes.size) < 0.25)
            capitalise = np.r_[True, stop[:-1]]
            separators = np.where(paragraph, ".\n", np.where(stop, ". ", " ")).astype(object)
            separators[ends - 1] = "."
        else:
            capitalise = np.zeros(codes.size, dtype=bool)
            separators = np.full(codes.size, " ", dtype=object)
            separators[ends - 1] = ""
        capitalise[firsts] = True
        tokens = np.empty(2 * codes.size, dtype=object)
        tokens[0::2] = np.where(capitalise, capital[inverse], plain[inverse])
        tokens[1::2] = separators
        flat = tokens.tolist()
        return ["".join(flat[2 * a:2 * b]) for a, b in zip(firsts.tolist(), ends.tolist())]


def _check(n: int, days: float, median_words: float, story_share: float, vocabulary_size: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InvalidOptionError(f"n must be an integer >= 0, got {n!r}")
    if not days > 0:
        raise InvalidOptionError(f"days must be > 0, got {days!r}")
    if not median_words >= 5:
        raise InvalidOptionError(f"median_words must be >= 5, got {median_words!r}")
    if not 0 <= story_share <= 1:
        raise InvalidOptionError(f"story_share must be in [0, 1], got {story_share!r}")
    if not (isinstance(vocabulary_size, int) and vocabulary_size >= 1000):
        raise InvalidOptionError(f"vocabulary_size must be an integer >= 1000, got {vocabulary_size!r}")


def generate_articles(
    n: int,
    *,
    seed: int = 0,
    start: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc),
    days: float = 60,
    median_words: float = 400,
    length_sigma: float = 0.6,
    story_share: float = 0.6,
    vocabulary_size: int = 60_000,
) -> Iterator[dict]:
    """Stream ``n`` synthetic articles in chronological order.

    Parameters
    ----------
    n : int
    seed : int, default=0
        The same seed (and options) gives the same articles.
    start : datetime, default=2026-01-01 UTC
        Timezone-aware time of the first possible publication.
    days : float, default=60
        Publications spread over ``[start, start + days]``.
    median_words : float, default=400
        Median body length in words (lognormal, ``length_sigma`` the log standard deviation).
    length_sigma : float, default=0.6
    story_share : float, default=0.6
        Share of articles in stories of 2-30 articles; the others stand alone.
    vocabulary_size : int, default=60000
        Size of the general vocabulary (names and places come on top, without bound).

    Yields
    ------
    dict
        ``id``, ``title``, ``body`` (paragraphs separated by newlines), ``published_at``
        (ISO 8601, UTC), ``section``, ``tags`` and ``story`` (``"story-000042"`` or ``None``).
    """
    _check(n, days, median_words, story_share, vocabulary_size)
    if start.tzinfo is None:
        raise InvalidOptionError("start must be timezone-aware, e.g. datetime(2026, 1, 1, tzinfo=timezone.utc)")
    return _stream(int(n), seed, start, float(days), float(median_words), float(length_sigma), float(story_share),
                   vocabulary_size)


def _stream(n, seed, start, days, median_words, sigma, story_share, vocabulary_size) -> Iterator[dict]:
    plan_seed, world_seed, chunk_seeds = np.random.SeedSequence(seed).spawn(3)
    times, story, n_stories = _plan(n, np.random.default_rng(plan_seed), days * 86400.0, story_share)
    world = _World(np.random.default_rng(world_seed), n_stories, vocabulary_size)
    base = np.datetime64(start.astimezone(timezone.utc).replace(tzinfo=None), "ms")
    width = max(6, len(str(n)))
    for number, chunk_seed in enumerate(chunk_seeds.spawn((n + _CHUNK - 1) // _CHUNK)):
        lo, hi = number * _CHUNK, min(n, (number + 1) * _CHUNK)
        chunk = world.chunk(np.random.default_rng(chunk_seed), story[lo:hi], median_words, sigma)
        stamps = np.datetime_as_string(base + (times[lo:hi] * 1000).astype("timedelta64[ms]"), unit="s").tolist()
        for i, s in enumerate(story[lo:hi].tolist()):
            yield {
                "id": f"syn-{lo + i:0{width}d}",
                "title": chunk["title"][i],
                "body": chunk["body"][i],
                "published_at": f"{stamps[i]}+00:00",
                "section": chunk["section"][i],
                "tags": chunk["tags"][i],
                "story": f"story-{s:06d}" if s >= 0 else None,
            }


def generate_reactions(
    articles: Iterable[dict],
    *,
    seed: int = 0,
    mean_reactions: float = 8.0,
    reactions: tuple[str, ...] = ("veryGood", "good", "sad", "angry"),
) -> Iterator[dict]:
    """Stream reaction events (``article_id``, ``reaction``, ``at``) for ``articles``.

    Popularity is lognormal per article (a few articles draw most reactions) and reactions
    arrive after publication with an exponential decay (half within about 10 hours).

    Parameters
    ----------
    articles : iterable of dict
        With ``id`` and ``published_at`` (ISO 8601 with zone), e.g. from :func:`generate_articles`.
    seed : int, default=0
    mean_reactions : float, default=8.0
        Mean number of reactions per article.
    reactions : tuple of str
        Reaction names, most frequent first.

    Yields
    ------
    dict
        ``{"article_id": str, "reaction": str, "at": ISO 8601 str}``, grouped by article.
    """
    if not mean_reactions >= 0:
        raise InvalidOptionError(f"mean_reactions must be >= 0, got {mean_reactions!r}")
    if not reactions:
        raise InvalidOptionError("reactions must name at least one reaction")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EAC7]))
    shares = 1.0 / np.arange(1, len(reactions) + 1)
    shares /= shares.sum()
    for article in articles:
        published = np.datetime64(datetime.fromisoformat(article["published_at"]).astimezone(timezone.utc).replace(tzinfo=None), "s")
        count = rng.poisson(mean_reactions * rng.lognormal(-0.5, 1.0))
        kinds = rng.choice(len(reactions), size=count, p=shares)
        delays = np.sort(rng.exponential(14.4 * 3600, count)).astype("timedelta64[s]")
        for kind, at in zip(kinds.tolist(), np.datetime_as_string(published + delays, unit="s").tolist()):
            yield {"article_id": article["id"], "reaction": reactions[kind], "at": f"{at}+00:00"}
