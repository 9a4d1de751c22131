"""Examples that work on any day: the sample's fixed clock, and fit() recording reactions at
an explicit ``now`` so the machine's clock never decides what loads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from recommender import InvalidInputError, InvalidOptionError, Recommender, load_reactions
from recommender.datasets import SAMPLE_NOW, sample_reactions_path

# two machine clocks: one before the sample's reactions, one long after them
EARLY_CLOCK = datetime(2026, 9, 1, tzinfo=timezone.utc)
LATE_CLOCK = datetime(2031, 5, 17, 6, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def reactions():
    return load_reactions(sample_reactions_path())


def test_sample_now_is_just_after_the_last_reaction(reactions):
    last = max(reaction.at for reaction in reactions)
    assert last <= SAMPLE_NOW < last + timedelta(hours=1)


def test_fit_at_the_sample_clock_gives_the_same_lists_whatever_the_machine_clock(sample_articles, reactions):
    """What a machine shows at ``SAMPLE_NOW`` does not depend on when the model was fitted:
    fitted 'on' a late day and 'on' the sample's day, both answer the same."""
    at_sample = Recommender().fit(sample_articles, reactions=reactions, now=SAMPLE_NOW)
    at_late = Recommender().fit(sample_articles, reactions=reactions, now=LATE_CLOCK)
    ranking = at_sample.ranking(now=SAMPLE_NOW)
    assert len(ranking) == 7 and ranking == at_late.ranking(now=SAMPLE_NOW)
    article = at_sample.article_ids[0]
    assert at_sample.page(article, now=SAMPLE_NOW) == at_late.page(article, now=SAMPLE_NOW)
    assert at_late.ranking(now=LATE_CLOCK) == []  # nothing published within a week of that day


def test_a_clock_before_the_reactions_refuses_them(sample_articles, reactions):
    with pytest.raises(InvalidInputError, match="in the future"):
        Recommender().fit(sample_articles, reactions=reactions, now=EARLY_CLOCK)


def test_fit_checks_now(sample_articles):
    with pytest.raises(InvalidOptionError, match="time zone"):
        Recommender().fit(sample_articles, now=datetime(2026, 11, 28))
