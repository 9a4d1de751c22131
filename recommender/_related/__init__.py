"""The Related search: the one owner of how a Related list is found and ranked.

* :mod:`.query`: what a list must honour (exclusions, filters, the relevance gate).
* :mod:`.search`: the strategy (``"auto" | "profiles" | "full"``), resolved in one place, and
  the entry points every caller uses: single rows, texts, blocks and whole-archive arrays.
* :mod:`.full`: the full-product strategy (exact; cost grows with the archive).
* :mod:`.pruned`: the profiles strategy (exact by score bounds; cost independent of the archive).
* :mod:`.tier`: which hits are the same story as the query, and which only related.

Near-duplicates are skipped by :mod:`recommender._distinct`, shared with the other lists.
"""

from .query import RelatedQuery, filtered_out
from .search import (
    STRATEGIES,
    Found,
    block_rows,
    prepare_search,
    related_arrays,
    related_block,
    related_rows,
    related_text_rows,
    resolve_strategy,
    similarity_matrix,
)
from .tier import story_tiers

__all__ = ["STRATEGIES", "Found", "RelatedQuery", "block_rows", "filtered_out", "prepare_search", "related_arrays",
           "related_block", "related_rows", "related_text_rows", "resolve_strategy", "similarity_matrix", "story_tiers"]
