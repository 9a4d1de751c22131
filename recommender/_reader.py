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

The archive counts (articles per section and per section and first tag, removed ones
included: they describe what the site publishes) are computed once per catalogue and
extended incrementally as articles are added.

Pure computation: catalogue and rows in, arrays out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ._catalog import Catalog

__all__ = ["SECTION_PRIOR_READS", "SUBSECTION_PRIOR_READS", "SectionCounts", "section_shares"]

SECTION_PRIOR_READS = 1.0
"""Pseudo-reads spread over the sections in the archive's proportions."""

SUBSECTION_PRIOR_READS = 2.0
"""Pseudo-reads backing a subsection share off to its section share."""


@dataclass(frozen=True)
class SectionCounts:
    """Articles per section and per (section, first tag) in the first ``n_rows`` rows.

    Parameters
    ----------
    n_rows : int
    sections : Counter
        Section code (``-1`` for none) -> articles.
    subsections : Counter
        ``(section code, first tag or None)`` -> articles.
    """

    n_rows: int
    sections: Counter
    subsections: Counter

    @classmethod
    def of(cls, catalog: Catalog) -> SectionCounts:
        """The counts over every row of ``catalog`` (from its cached counts when there are some)."""
        known = catalog.section_counts
        if known is not None and known.n_rows == len(catalog):
            return known
        start = 0 if known is None or known.n_rows > len(catalog) else known.n_rows
        sections = Counter() if start == 0 else Counter(known.sections)
        subsections = Counter() if start == 0 else Counter(known.subsections)
        codes = catalog.section_codes[start:].tolist()
        sections.update(codes)
        subsections.update(zip(codes, (catalog.first_tag(row) for row in range(start, len(catalog)))))
        catalog.section_counts = counts = cls(len(catalog), sections, subsections)
        return counts


def _subsection(catalog: Catalog, row: int) -> tuple[int, str | None]:
    return int(catalog.section_codes[row]), catalog.first_tag(row)


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
    read_sections = Counter(catalog.section_codes[history_rows].tolist())
    read_subsections = Counter(_subsection(catalog, row) for row in history_rows.tolist())
    n_read, n_articles = len(history_rows), counts.n_rows
    section = np.empty(len(rows))
    subsection = np.empty(len(rows))
    for i, row in enumerate(rows.tolist()):
        key = _subsection(catalog, row)
        in_section = counts.sections[key[0]]
        section[i] = (read_sections[key[0]] + SECTION_PRIOR_READS * in_section / n_articles) \
            / (n_read + SECTION_PRIOR_READS)
        backoff = SUBSECTION_PRIOR_READS * section[i] * counts.subsections[key] / in_section
        subsection[i] = (read_subsections[key] + backoff) / (n_read + SUBSECTION_PRIOR_READS)
    return section, subsection
