"""Turn validated :class:`~recommender._reactions.Reaction` records into popularity updates.

The policies live here, in one place:

* **unknown reaction types** — with ``reaction_weights`` given, a type it does not name is
  an error (``unknown_reactions="error"``, the default) or is skipped and counted
  (``"ignore"``); without weights every type counts 1.
* **unknown articles** — reactions to an id the model does not hold yet are *kept* as
  pending and applied when the article is added (reactions often arrive before the CMS
  export that carries the article); :class:`ReactionReport` counts them.
* **future timestamps** — a reaction later than ``now`` plus ``max_clock_skew`` is an
  error: it would sit at the top of every "now" list.
* **undated counts** are dated at the article's publication.

Pure: records and arrays in, arrays and a report out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._catalog import Catalog
from ._time import epoch_seconds
from .exceptions import InvalidInputError
from ._reactions import Reaction

__all__ = ["ReactionBatch", "ReactionReport", "prepare_reactions"]


@dataclass(frozen=True, slots=True)
class ReactionReport:
    """What became of a batch of reactions.

    Attributes
    ----------
    applied : int
        Records added to the popularity state.
    pending : int
        Records for articles not in the model yet, kept until they are added.
    ignored : int
        Records skipped for an unknown reaction type (``unknown_reactions="ignore"``).
    ignored_types : dict of str to int
        Skipped records per unknown type.
    purged : int
        Records for purged articles, dropped rather than kept pending (see
        :meth:`Recommender.purge_articles`).
    """

    applied: int = 0
    pending: int = 0
    ignored: int = 0
    ignored_types: dict[str, int] = field(default_factory=dict)
    purged: int = 0


@dataclass(frozen=True, slots=True)
class ReactionBatch:
    """Array form of the applicable reactions: ``weights[j]`` on ``rows[j]`` at ``times[j]``."""

    rows: np.ndarray
    weights: np.ndarray
    times: np.ndarray


def prepare_reactions(
    reactions: Sequence[Reaction],
    catalog: Catalog,
    *,
    weights: Mapping[str, float] | None,
    unknown_reactions: str,
    now: float,
    max_clock_skew: float = 300.0,
) -> tuple[ReactionBatch, list[Reaction], ReactionReport]:
    """Split reactions into an applicable batch, pending records and a report.

    Parameters
    ----------
    reactions : sequence of Reaction
    catalog : Catalog
    weights : mapping of reaction type to weight, or None (every type weighs 1)
    unknown_reactions : {"error", "ignore"}
    now : float
        Epoch seconds; reactions after ``now + max_clock_skew`` are refused.

    Returns
    -------
    batch : ReactionBatch
    pending : list of Reaction
    report : ReactionReport

    Raises
    ------
    InvalidInputError
        For a future timestamp, or an unknown type under ``unknown_reactions="error"``;
        raised before anything is applied.
    """
    rows: list[int] = []
    amounts: list[float] = []
    times: list[float] = []
    pending: list[Reaction] = []
    ignored: dict[str, int] = {}
    for position, reaction in enumerate(reactions, start=1):
        if weights is not None and reaction.reaction not in weights:
            if unknown_reactions == "error":
                raise InvalidInputError(
                    f"unknown reaction type {reaction.reaction!r}; known: {', '.join(sorted(weights))} "
                    "(or construct with unknown_reactions='ignore')",
                    line=position, record_id=reaction.article_id,
                )
            ignored[reaction.reaction] = ignored.get(reaction.reaction, 0) + 1
            continue
        at = None if reaction.at is None else epoch_seconds(reaction.at)
        if at is not None and at > now + max_clock_skew:
            raise InvalidInputError(
                f"reaction time {reaction.at.isoformat()} is in the future", line=position, record_id=reaction.article_id
            )
        if reaction.article_id not in catalog:
            pending.append(reaction)
            continue
        row = catalog.row(reaction.article_id)
        rows.append(row)
        amounts.append(reaction.count * (1.0 if weights is None else float(weights[reaction.reaction])))
        times.append(float(catalog.published[row]) if at is None else float(at))
    batch = ReactionBatch(np.asarray(rows, dtype=np.int64), np.asarray(amounts), np.asarray(times))
    report = ReactionReport(applied=len(rows), pending=len(pending), ignored=sum(ignored.values()), ignored_types=ignored)
    return batch, pending, report
