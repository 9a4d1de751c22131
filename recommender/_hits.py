"""What the lists return: :class:`Hit` (one item) and :class:`Page` (the three lists under an article).

Pure data: frozen dataclasses, no computation.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Hit", "Page"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One item of a list.

    Parameters
    ----------
    article_id : str
    score : float
        The list's ranking score: the Related score (see :meth:`Recommender.similarity`), the
        popularity score for Ranking, the blended relevance for Recommendation.
    explanation : str
        Why the item is there, for the UI and for debugging.
    terms : tuple of str
        For similarity hits, the shared terms that weigh most.
    tier : str
        For Related hits, ``"story"`` (the same event: another outlet's take, a follow-up) or
        ``"related"`` (see :mod:`recommender._related.tier`); ``""`` on other lists.
    """

    article_id: str
    score: float
    explanation: str = ""
    terms: tuple[str, ...] = ()
    tier: str = ""


@dataclass(frozen=True, slots=True)
class Page:
    """The three lists under one article; no story (nor a near-duplicate of one) twice.

    Parameters
    ----------
    related, ranking, recommendation : list of Hit
    """

    related: list[Hit]
    ranking: list[Hit]
    recommendation: list[Hit]
