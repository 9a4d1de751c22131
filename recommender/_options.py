"""The :class:`~recommender.Recommender` options, in groups that own their defaults.

Each group is a frozen dataclass: its field defaults are *the* defaults (the estimator's
signature, the CLI and the pipeline steps read them from here), :meth:`validate` refuses a
bad value by name, and :attr:`LEGACY` holds the values a model saved before an option existed
was built with, so an old artifact keeps its old behaviour.

=====================  ===========================================================
group                  options
=====================  ===========================================================
:class:`TextOptions`   how article text becomes TF-IDF rows
:class:`RelatedOptions`  how Related lists are searched, gated and explained
:class:`PopularityOptions`  how reactions become Ranking scores
:class:`RecommendOptions`   how the Recommendation blend weighs its signals
:class:`PageSizes`     how long each list of :meth:`~recommender.Recommender.page` is
=====================  ===========================================================

Every number must be finite and inside a range that cannot overflow the scores (an
``inf`` weight would turn Ranking scores into ``inf`` and blends into ``nan``).

Pure computation: values in, errors or groups out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import timedelta
from typing import Any, ClassVar

from ._languages import DEFAULT_LANGUAGE, normalize_language
from .exceptions import InvalidOptionError

__all__ = ["BlendWeights", "GROUPS", "PageSizes", "PopularityOptions", "RecommendOptions", "RelatedOptions",
           "TextOptions", "from_json", "split", "to_json", "validate"]

MAX_WEIGHT = 1e6
"""Largest reaction, blend or title weight: far above any useful value, far below float overflow."""

MAX_HOURS = 24.0 * 365 * 100
"""Largest time constant in hours (a century)."""


def _number(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
            high_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        raise InvalidOptionError(f"{name} must be a finite number in {'(' if low_open else '['}{low:g}, {high:g}"
                                 f"{')' if high_open else ']'}, got {value!r}")


def _whole(name: str, value: Any, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f">= {low}"
        raise InvalidOptionError(f"{name} must be an integer {span}, got {value!r}")


def _choice(name: str, value: Any, choices: tuple) -> None:
    if not any(value is choice or (isinstance(value, str) and value == choice) for choice in choices):
        raise InvalidOptionError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidOptionError(f"{name} must be True or False, got {value!r}")


def _weights(name: str, value: Any, names: set[str] | None = None) -> None:
    ok = isinstance(value, Mapping) and (bool(value) or names is not None) and all(isinstance(key, str) for key in value)
    ok = ok and (names is None or set(value) <= names)
    if ok:
        for key, weight in value.items():
            _number(f"{name}[{key!r}]", weight, 0, MAX_WEIGHT)
    else:
        known = f" some of {sorted(names)}" if names else " reaction names"
        raise InvalidOptionError(f"{name} must map{known} to numbers >= 0, got {value!r}")


@dataclass(frozen=True)
class TextOptions:
    """How article text becomes TF-IDF rows (see :class:`~recommender._vectorize.TextVectorizer`)."""

    title_weight: float = 2.0
    stop_words: str | None = "language"
    sublinear_tf: bool = True
    min_df: int = 1
    max_df: float = 0.9
    max_features: int | None = None
    proper_noun_weight: int = 2
    stem: bool = True
    language: str = DEFAULT_LANGUAGE
    multilingual: bool = True

    LEGACY: ClassVar[dict[str, Any]] = {"proper_noun_weight": 1, "stem": False, "multilingual": False}
    STOP_WORDS: ClassVar[tuple[str | None, ...]] = ("language", "english", None)

    def validate(self) -> TextOptions:
        _number("title_weight", self.title_weight, 0, MAX_WEIGHT)
        _choice("stop_words", self.stop_words, self.STOP_WORDS)
        try:
            normalize_language(self.language)
        except ValueError as error:
            raise InvalidOptionError(f"language: {error}") from None
        _flag("multilingual", self.multilingual)
        _flag("sublinear_tf", self.sublinear_tf)
        _whole("min_df", self.min_df, 1)
        _number("max_df", self.max_df, 0, 1, low_open=True)
        if self.max_features is not None:
            _whole("max_features", self.max_features, 1)
        _whole("proper_noun_weight", self.proper_noun_weight, 1, 10)
        _flag("stem", self.stem)
        return self


@dataclass(frozen=True)
class RelatedOptions:
    """How Related lists are searched (:mod:`recommender._related`), gated and explained."""

    neighbours: int = 50
    core_neighbours: int = 5
    core_weight: float = 0.5
    strategy: str = "auto"
    duplicate_threshold: float = 0.8
    min_similarity: float = 0.05
    explain_terms: int = 3
    cross_language: bool = False
    time_scale_days: float | str | None = "auto"
    time_floor: float = 0.5

    LEGACY: ClassVar[dict[str, Any]] = {"neighbours": 0, "core_neighbours": 5, "core_weight": 0.0, "strategy": "auto",
                                        "time_scale_days": None, "time_floor": 0.5}
    STRATEGIES: ClassVar[tuple[str, ...]] = ("auto", "profiles", "full")

    def validate(self) -> RelatedOptions:
        _whole("neighbours", self.neighbours, 0, 1000)
        _whole("core_neighbours", self.core_neighbours, 0, 1000)
        _number("core_weight", self.core_weight, 0, 10)
        _choice("strategy", self.strategy, self.STRATEGIES)
        if self.strategy == "profiles" and self.neighbours == 0:
            raise InvalidOptionError("strategy='profiles' needs neighbour profiles (neighbours > 0)")
        _number("duplicate_threshold", self.duplicate_threshold, 0, 1, low_open=True)
        _number("min_similarity", self.min_similarity, 0, self.duplicate_threshold, high_open=True)
        _whole("explain_terms", self.explain_terms, 0, 100)
        _flag("cross_language", self.cross_language)
        if isinstance(self.time_scale_days, str):
            _choice("time_scale_days", self.time_scale_days, ("auto",))
        elif self.time_scale_days is not None:
            _number("time_scale_days", self.time_scale_days, 0, 36_500, low_open=True)
        _number("time_floor", self.time_floor, 0, 1)
        return self


@dataclass(frozen=True)
class PopularityOptions:
    """How reactions become Ranking scores (see :mod:`recommender._popularity`)."""

    reaction_weights: Mapping[str, float] | None = None
    unknown_reactions: str = "error"
    decay: str = "exponential"
    half_life_hours: float = 6.0
    gravity: float = 1.8
    prior_hours: float = 1.0
    ranking_max_age: timedelta = timedelta(days=7)

    LEGACY: ClassVar[dict[str, Any]] = {}

    def validate(self) -> PopularityOptions:
        if self.reaction_weights is not None:
            _weights("reaction_weights", self.reaction_weights)
        _choice("unknown_reactions", self.unknown_reactions, ("error", "ignore"))
        _choice("decay", self.decay, ("exponential", "gravity"))
        _number("half_life_hours", self.half_life_hours, 0, MAX_HOURS, low_open=True)
        _number("gravity", self.gravity, 0, 10)
        _number("prior_hours", self.prior_hours, 0, MAX_HOURS)
        age = self.ranking_max_age
        if not isinstance(age, timedelta) or not timedelta(0) < age <= timedelta(hours=MAX_HOURS):
            raise InvalidOptionError(f"ranking_max_age must be a positive timedelta of at most 100 years, got {age!r}")
        return self


@dataclass(frozen=True, slots=True)
class BlendWeights:
    """Weights of the Recommendation relevance signals (finite numbers >= 0).

    ``article``: similarity to the article being read; ``history``: similarity to the
    reader's profile (the mean of the stories read); ``history_max``: similarity to the
    closest single story read; ``section`` and ``subsection``: the reader's share of reads
    in the candidate's section and subsection (first tag); ``popularity``; ``freshness``
    (see :mod:`recommender._recommend`). The defaults are those of ``blend="reader"``;
    :attr:`SIMILARITY` holds those of ``blend="similarity"``.
    """

    article: float = 0.4
    history: float = 0.15
    history_max: float = 0.15
    section: float = 0.1
    subsection: float = 0.2
    popularity: float = 0.15
    freshness: float = 0.15

    SIMILARITY: ClassVar[dict[str, float]] = {"article": 0.4, "history": 0.3, "history_max": 0.0, "section": 0.0,
                                              "subsection": 0.0, "popularity": 0.15, "freshness": 0.15}

    @classmethod
    def of(cls, weights: Mapping[str, float] | None, blend: str = "reader") -> BlendWeights:
        """The weights an option value names; a signal it leaves out keeps the ``blend``'s default."""
        base = cls() if blend == "reader" else cls(**cls.SIMILARITY)
        if weights is None:
            return base
        _weights("blend_weights", weights, {field.name for field in fields(cls)})
        return replace(base, **{name: float(value) for name, value in weights.items()})


@dataclass(frozen=True)
class RecommendOptions:
    """How the Recommendation list weighs and diversifies its signals (see :mod:`recommender._recommend`).

    ``blend="reader"`` scores candidates on raw similarities plus the reader's section
    profile; ``"similarity"`` is the earlier blend (similarities below ``min_similarity``
    count 0, no section profile), which models saved before the option keep.
    ``section_scale`` is how the section share enters the ``"reader"`` blend: ``"log"``
    (log-scaled, see :mod:`recommender._reader`) or ``"linear"`` (the share itself, which
    models saved before the option keep).
    """

    blend_weights: Mapping[str, float] | None = None
    blend: str = "reader"
    diversity: float = 0.3
    freshness_half_life_hours: float = 48.0
    history_half_life: float = 5.0
    story_threshold: float = 0.1
    section_scale: str = "log"

    LEGACY: ClassVar[dict[str, Any]] = {"blend": "similarity", "section_scale": "linear"}
    BLENDS: ClassVar[tuple[str, ...]] = ("reader", "similarity")
    SECTION_SCALES: ClassVar[tuple[str, ...]] = ("log", "linear")

    def validate(self) -> RecommendOptions:
        BlendWeights.of(self.blend_weights)
        _choice("blend", self.blend, self.BLENDS)
        _number("diversity", self.diversity, 0, 1, high_open=True)
        _number("freshness_half_life_hours", self.freshness_half_life_hours, 0, MAX_HOURS, low_open=True)
        _number("history_half_life", self.history_half_life, 0, 1e6, low_open=True)
        _number("story_threshold", self.story_threshold, 0, 1, low_open=True)
        _choice("section_scale", self.section_scale, self.SECTION_SCALES)
        return self


@dataclass(frozen=True)
class PageSizes:
    """How many items each list of a page holds (:meth:`~recommender.Recommender.page`'s ``sizes``).

    Examples
    --------
    >>> PageSizes(related=5)
    PageSizes(related=5, ranking=8, recommendation=8)
    """

    related: int = 10
    ranking: int = 8
    recommendation: int = 8


GROUPS = (TextOptions, RelatedOptions, PopularityOptions, RecommendOptions)
"""The option groups of :class:`~recommender.Recommender`, in signature order (``n_jobs`` aside)."""


def split(options: Mapping[str, Any]) -> tuple[TextOptions, RelatedOptions, PopularityOptions, RecommendOptions]:
    """The groups holding ``options`` (every name of every group must be present)."""
    return tuple(group(**{field.name: options[field.name] for field in fields(group)}) for group in GROUPS)


def validate(options: Mapping[str, Any]) -> None:
    """Raise :class:`~recommender.InvalidOptionError` naming the first option out of range."""
    for group in split(options):
        group.validate()
    n_jobs = options["n_jobs"]
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1):
        raise InvalidOptionError(f"n_jobs must be None, -1 or a positive integer, got {n_jobs!r}")


def to_json(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as JSON values (for a model's manifest)."""
    config = dict(options)
    config["ranking_max_age"] = options["ranking_max_age"].total_seconds()
    for name in ("reaction_weights", "blend_weights"):
        config[name] = None if options[name] is None else dict(options[name])
    return config


def from_json(config: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor keyword arguments from :func:`to_json`'s output, of this or an older version.

    An option missing from an older model takes its group's :attr:`LEGACY` value (the
    behaviour of that time), or its default when the option changed nothing before.
    """
    options = dict(config)
    for group in GROUPS:
        for name, value in group.LEGACY.items():
            options.setdefault(name, value)
    options.setdefault("n_jobs", None)
    seconds = options["ranking_max_age"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or not 0 < seconds <= MAX_HOURS * 3600:
        raise InvalidOptionError(f"ranking_max_age must be a positive number of seconds, got {seconds!r}")
    options["ranking_max_age"] = timedelta(seconds=seconds)
    return options


def defaults() -> dict[str, Any]:
    """Every option's default, by name."""
    return {name: value for group in GROUPS for name, value in asdict(group()).items()} | {"n_jobs": None}
