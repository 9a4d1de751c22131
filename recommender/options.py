"""The :class:`~recommender.Recommender` options: validation, and their JSON form in artifacts.

Pure computation: a mapping of option names to values in, errors or derived settings out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .blend import BlendWeights
from .exceptions import InvalidOptionError
from .popularity import PopularityConfig

__all__ = ["blend_weights", "from_json", "popularity_config", "to_json", "validate"]


def _number(options: Mapping[str, Any], name: str, low: float, high: float, *,
            low_open: bool = False, high_open: bool = False) -> None:
    value = options[name]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        raise InvalidOptionError(f"{name} must be a number in {'(' if low_open else '['}{low}, {high}"
                                 f"{')' if high_open else ']'}, got {value!r}")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(options: Mapping[str, Any]) -> None:
    """Raise :class:`~recommender.InvalidOptionError` naming the first option out of range.

    The text options (``title_weight`` ... ``stem``) are checked by
    :class:`~recommender.vectorize.TextVectorizer` when it is built.
    """
    infinity = float("inf")
    _number(options, "duplicate_threshold", 0, 1, low_open=True)
    _number(options, "min_similarity", 0, options["duplicate_threshold"], high_open=True)
    _number(options, "half_life_hours", 0, infinity, low_open=True, high_open=True)
    _number(options, "gravity", 0, 10)
    _number(options, "prior_hours", 0, infinity, high_open=True)
    _number(options, "diversity", 0, 1, high_open=True)
    _number(options, "freshness_half_life_hours", 0, infinity, low_open=True, high_open=True)
    _number(options, "history_half_life", 0, infinity, low_open=True, high_open=True)
    _number(options, "story_threshold", 0, 1, low_open=True)
    blend_weights(options["blend_weights"])
    neighbours, n_jobs, explain_terms = options["neighbours"], options["n_jobs"], options["explain_terms"]
    if not _whole(neighbours) or not 0 <= neighbours <= 1000:
        raise InvalidOptionError(f"neighbours must be an integer from 0 to 1000, got {neighbours!r}")
    if n_jobs is not None and (not _whole(n_jobs) or n_jobs == 0 or n_jobs < -1):
        raise InvalidOptionError(f"n_jobs must be None, -1 or a positive integer, got {n_jobs!r}")
    if not _whole(explain_terms) or explain_terms < 0:
        raise InvalidOptionError(f"explain_terms must be an integer >= 0, got {explain_terms!r}")
    if options["unknown_reactions"] not in ("error", "ignore"):
        raise InvalidOptionError(f"unknown_reactions must be 'error' or 'ignore', got {options['unknown_reactions']!r}")
    if options["decay"] not in ("exponential", "gravity"):
        raise InvalidOptionError(f"decay must be 'exponential' or 'gravity', got {options['decay']!r}")
    max_age = options["ranking_max_age"]
    if not isinstance(max_age, timedelta) or max_age <= timedelta(0):
        raise InvalidOptionError(f"ranking_max_age must be a positive timedelta, got {max_age!r}")
    weights = options["reaction_weights"]
    if weights is not None and not (
        isinstance(weights, Mapping) and weights
        and all(isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                for k, v in weights.items())
    ):
        raise InvalidOptionError(f"reaction_weights must map reaction names to numbers >= 0, got {weights!r}")


def blend_weights(weights: Mapping[str, float] | None) -> BlendWeights:
    """The Recommendation signal weights (the defaults for ``None``)."""
    if weights is None:
        return BlendWeights()
    names = set(BlendWeights.__dataclass_fields__)
    if not (isinstance(weights, Mapping) and set(weights) <= names and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in weights.values())):
        raise InvalidOptionError(f"blend_weights must map some of {sorted(names)} to numbers >= 0, got {weights!r}")
    return BlendWeights(**{name: float(value) for name, value in weights.items()})


def popularity_config(options: Mapping[str, Any]) -> PopularityConfig:
    """The popularity settings among the options."""
    return PopularityConfig(
        decay=options["decay"], half_life_hours=float(options["half_life_hours"]), gravity=float(options["gravity"]),
        prior_hours=float(options["prior_hours"]), max_age_hours=options["ranking_max_age"].total_seconds() / 3600,
    )


def to_json(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as JSON values (for a model's manifest)."""
    config = dict(options)
    config["ranking_max_age"] = options["ranking_max_age"].total_seconds()
    for name in ("reaction_weights", "blend_weights"):
        config[name] = None if options[name] is None else dict(options[name])
    return config


def from_json(config: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor keyword arguments from :func:`to_json`'s output, of this or an older version."""
    options = dict(config)
    # saved before these options existed: the behaviour of that time
    options.setdefault("proper_noun_weight", 1)
    options.setdefault("stem", False)
    options.setdefault("neighbours", 0)
    options.setdefault("n_jobs", None)
    options["ranking_max_age"] = timedelta(seconds=options["ranking_max_age"])
    return options
