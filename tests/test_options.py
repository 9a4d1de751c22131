"""Recommender options: every bad value is refused, naming the option; the JSON form round-trips."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from recommender import InvalidOptionError, Recommender
from recommender import _options as options

BAD = [
    ("duplicate_threshold", 0), ("duplicate_threshold", 1.5), ("duplicate_threshold", True),
    ("min_similarity", 0.8), ("min_similarity", -0.1),
    ("half_life_hours", 0), ("half_life_hours", float("inf")),
    ("gravity", 11), ("prior_hours", -1), ("diversity", 1.0),
    ("freshness_half_life_hours", 0), ("history_half_life", "5"), ("story_threshold", 0),
    ("blend_weights", {"clicks": 1}), ("blend_weights", {"article": -1}), ("blend_weights", [("article", 1)]),
    ("neighbours", -1), ("neighbours", 1001), ("neighbours", 2.0), ("neighbours", False),
    ("n_jobs", 0), ("n_jobs", -2), ("n_jobs", 1.0),
    ("explain_terms", -1), ("explain_terms", True),
    ("unknown_reactions", "skip"), ("decay", "linear"),
    ("ranking_max_age", 7), ("ranking_max_age", timedelta(0)),
    ("reaction_weights", {}), ("reaction_weights", {"good": -1}), ("reaction_weights", {1: 1}),
    # not finite, or large enough to overflow a score
    ("reaction_weights", {"good": float("inf")}), ("reaction_weights", {"good": float("nan")}),
    ("reaction_weights", {"good": 1e300}), ("blend_weights", {"article": float("inf")}),
    ("blend_weights", {"article": float("nan")}), ("title_weight", float("inf")), ("title_weight", float("nan")),
    ("title_weight", -1), ("max_df", float("nan")), ("prior_hours", float("inf")), ("gravity", float("nan")),
    ("diversity", float("nan")), ("freshness_half_life_hours", float("inf")), ("history_half_life", float("nan")),
    ("duplicate_threshold", float("nan")), ("min_similarity", float("nan")),
    ("ranking_max_age", timedelta(days=10**6)),
    ("strategy", "fastest"), ("strategy", None), ("section_scale", "sqrt"), ("section_scale", None),
    ("core_weight", -0.1), ("core_weight", float("inf")), ("core_neighbours", -1), ("core_neighbours", 2.5),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_bad_option_is_refused_by_name(name, value, sample_articles):
    with pytest.raises(InvalidOptionError, match=name):
        Recommender(**{name: value}).fit(sample_articles[:5])


def test_defaults_pass_and_the_json_form_round_trips():
    params = Recommender(reaction_weights={"good": 1, "sad": 0.5}, blend_weights={"article": 1}).get_params()
    options.validate(params)
    config = json.loads(json.dumps(options.to_json(params)))
    assert options.from_json(config) == params
    assert Recommender(**params)._popularity_config().max_age_hours == 7 * 24
    assert options.BlendWeights.of(None) == options.BlendWeights.of({})


def test_profiles_strategy_needs_profiles(sample_articles):
    with pytest.raises(InvalidOptionError, match="strategy"):
        Recommender(neighbours=0, strategy="profiles").fit(sample_articles[:5])


def test_every_default_has_one_home():
    """The estimator's signature reads its defaults from the option groups."""
    import inspect

    signature = inspect.signature(Recommender)
    assert {name: p.default for name, p in signature.parameters.items()} == options.defaults()


def test_set_params_validates_and_clone_works(sample_articles):
    from sklearn.base import clone

    model = Recommender(neighbours=5)
    with pytest.raises(InvalidOptionError, match="diversity"):
        model.set_params(diversity=float("nan"))
    with pytest.raises(InvalidOptionError, match="unknown option"):
        model.set_params(colour="red")
    assert model.diversity == 0.3 and repr(model) == "Recommender(neighbours=5)"
    copied = clone(model.set_params(diversity=0.5))
    assert copied.get_params() == model.get_params() and copied is not model


def test_configs_saved_before_an_option_existed_keep_the_old_behaviour():
    config = options.to_json(Recommender().get_params())
    for name in ("proper_noun_weight", "stem", "neighbours", "n_jobs", "core_neighbours", "core_weight", "strategy"):
        del config[name]
    restored = options.from_json(config)
    assert (restored["proper_noun_weight"], restored["stem"], restored["neighbours"], restored["n_jobs"]) == (1, False, 0, None)
    assert (restored["core_weight"], restored["strategy"]) == (0.0, "auto")  # ranked by the anchored score alone
