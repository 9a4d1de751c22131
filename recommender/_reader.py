"""What a reader's history says about a candidate story: the reader's section profile.

How it works
------------
Readers return to the sections they read. For a history ``H`` (``|H|`` reads) and a
candidate in section ``s`` with first tag (subsection) ``t``:

* **section share**: the smoothed share of the history in the candidate's section,
  backed by the archive's share of that section, ``p(s)``::

      section = (#H in s + SECTION_PRIOR_READS * p(s)) / (|H| + SECTION_PRIOR_READS)

* **subsection share**: the same for the (section, first tag) pair, backed off to the
  section share through the archive's share of the tag within its section::

      subsection = (#H in (s, t) + SUBSECTION_PRIOR_READS * section * p(t | s))
                   / (|H| + SUBSECTION_PRIOR_READS)

  Articles without tags form one subsection per section, so a site without tags gets
  the section share back (up to the smoothing).

Shares are in [0, 1] and absolute (no rescaling): a reader of nothing but sport gives
sport candidates a share near 1 whatever else the site holds. A reader without history
has no profile: both signals are 0 for every candidate.

**Log scale** (``section_scale="log"``, the default): the section signal the blend adds is
the share on a log scale, :func:`log_scaled`::

    section signal = max(0, 1 + log(section) / log(1 / SHARE_FLOOR))

so 1 for a reader of nothing else, 0 for a share of :data:`SHARE_FLOOR` or less. The
relevance is a sum, so this makes the section term the log of a click probability, as in
a naive-Bayes score: halving the share costs the same whatever the share, and a section the
reader never opens (share ``p(s) / (|H| + 1)``) falls far below one read once or twice.
On MIND impressions this ranks clicks better than the linear share at every weight tried
(``docs/quality.md``). ``section_scale="linear"`` adds the share itself (models saved
before the option).

The archive counts (articles per section and per section and first tag, removed ones
included: they describe what the site publishes) are computed once per catalogue and
extended incrementally as articles are added.

Pure computation: catalogue and rows in, arrays out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._catalog import Catalog

__all__ = ["SECTION_PRIOR_READS", "SHARE_FLOOR", "SUBSECTION_PRIOR_READS", "SectionCounts",
           "log_scaled", "section_shares"]

SECTION_PRIOR_READS = 1.0
"""Pseudo-reads spread over the sections in the archive's proportions."""

SUBSECTION_PRIOR_READS = 2.0
"""Pseudo-reads backing a subsection share off to its section share."""

SHARE_FLOOR = 1e-3
"""Section share at which :func:`log_scaled` reaches 0 (smaller shares count 0 too)."""


@dataclass(frozen=True)
class SectionCounts:
    """Articles per section and per subsection (section, first tag) in the first ``n_rows`` rows.

    Parameters
    ----------
    n_rows : int
    subsection_of : ndarray of int64, shape (n_rows,)
        Each row's subsection number (an index into the arrays below).
    keys : dict
        ``(section code, first tag or None)`` -> subsection number.
    section_articles : ndarray of float64
        Articles per section code plus one (position 0: no section).
    subsection_articles : ndarray of float64
        Articles per subsection number.
    """

    n_rows: int
    subsection_of: np.ndarray
    keys: dict
    section_articles: np.ndarray
    subsection_articles: np.ndarray

    @classmethod
    def of(cls, catalog: Catalog) -> SectionCounts:
        """The counts over every row of ``catalog`` (from its cached counts when there are some)."""
        known = catalog.section_counts
        if known is not None and known.n_rows == len(catalog):
            return known
        start = 0 if known is None or known.n_rows > len(catalog) else known.n_rows
        keys = {} if start == 0 else dict(known.keys)
        codes = catalog.section_codes[start:].tolist()
        new = np.fromiter((keys.setdefault(key, len(keys)) for key in
                           zip(codes, catalog.first_tags(start))),
                          dtype=np.int64, count=len(codes))
        subsection_of = new if start == 0 else np.concatenate([known.subsection_of, new])
        sections = catalog.section_codes[:len(catalog)].astype(np.int64) + 1
        catalog.section_counts = counts = cls(
            len(catalog), subsection_of, keys, np.bincount(sections).astype(np.float64),
            np.bincount(subsection_of, minlength=len(keys)).astype(np.float64))
        return counts


def section_shares(catalog: Catalog, history_rows: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Section and subsection shares of ``rows`` for a reader of ``history_rows``.

    Returns
    -------
    section, subsection : ndarray of shape (len(rows),)
        In [0, 1]; zeros when the history is empty.
    """
    if len(history_rows) == 0 or len(rows) == 0:
        return np.zeros(len(rows)), np.zeros(len(rows))
    counts = SectionCounts.of(catalog)
    n_sections, n_subsections = len(counts.section_articles), len(counts.subsection_articles)
    read_sections = np.bincount(catalog.section_codes[history_rows] + 1, minlength=n_sections)
    read_subsections = np.bincount(counts.subsection_of[history_rows], minlength=n_subsections)
    n_read, n_articles = len(history_rows), counts.n_rows
    candidate_sections = catalog.section_codes[rows].astype(np.int64) + 1
    candidate_subsections = counts.subsection_of[rows]
    in_section = counts.section_articles[candidate_sections]
    section = (read_sections[candidate_sections] + SECTION_PRIOR_READS * in_section / n_articles) \
        / (n_read + SECTION_PRIOR_READS)
    backoff = SUBSECTION_PRIOR_READS * section * counts.subsection_articles[candidate_subsections] / in_section
    subsection = (read_subsections[candidate_subsections] + backoff) / (n_read + SUBSECTION_PRIOR_READS)
    return section, subsection


def log_scaled(shares: np.ndarray) -> np.ndarray:
    """``max(0, 1 + log(share) / log(1 / SHARE_FLOOR))``: 1 at share 1, 0 at :data:`SHARE_FLOOR`
    and below (and for a share of 0: no profile)."""
    shares = np.asarray(shares, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.clip(1.0 + np.log(shares) / np.log(1.0 / SHARE_FLOOR), 0.0, 1.0)
