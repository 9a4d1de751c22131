"""The read side of :class:`~recommender.Recommender`: every list call, each on one fitted state.

Each call validates its arguments, turns ids into rows, reads the fitted state once (so a
writer publishing a new state never splits a list or a page) and hands the work to the owner
of the list: :mod:`._related` (Related search), :mod:`._ranking`, :mod:`._recommend`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace as replaced
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._articles import ArticleLimits
from ._checks import (
    article_id_of,
    check_choice,
    check_exclude,
    check_k,
    check_max_age,
    check_now,
    check_same_section,
    check_section,
)
from ._explain import explained_hits
from ._hits import Hit, Page
from ._languages import normalize_language
from ._markup import html_to_text
from ._options import BlendWeights, PageSizes
from ._ranking import RankingQuery, ranked, ranking_list
from ._recommend import SIGNALS, RecommendQuery, recommendation_list, relevance_of
from ._related import (
    RelatedQuery,
    related_arrays,
    related_rows,
    related_text_rows,
    resolve_strategy,
    similarity_matrix,
    story_tiers,
)
from ._related.time_prior import TimePrior, decayed_pairs, resolved_scale
from ._state import ModelState
from ._time import epoch_seconds, parse_datetime
from ._visibility import check_published, hidden_rows, pinned_rows, with_pins
from .exceptions import InvalidInputError, InvalidOptionError, NotFittedError

__all__ = ["ListQueries"]

_MODES = ("popular", "trending")
_PAGE = PageSizes()


def _moment(now: datetime | None) -> float:
    """A call's ``now`` as epoch seconds (``None``: the current time; naive: refused)."""
    return float(epoch_seconds(check_now(now)))


def _pair_scores(state: ModelState, row: int, columns: np.ndarray, prior: TimePrior | None) -> np.ndarray:
    """The Related score of ``row`` with each of a few ``columns`` (as :meth:`similarity`), from
    their pair cosines: no product over the archive."""
    cosines = state.index.pair_cosines(np.full(len(columns), row), columns)
    if state.profiles is None:
        return cosines
    matrix = sp.csr_matrix((cosines, (np.zeros(len(columns), dtype=np.int64), columns)), shape=(1, state.index.n_rows))
    scores = state.profiles.block_scores(np.array([row]), matrix)[:, columns].toarray().ravel()
    return decayed_pairs(state, prior, scores, cosines, row, columns)


class ListQueries:
    """List calls of a fitted model; :class:`~recommender.Recommender` adds options, fitting and storage."""

    duplicate_threshold: float
    min_similarity: float
    explain_terms: int
    strategy: str
    cross_language: bool
    blend_weights: Any
    blend: str
    diversity: float
    freshness_half_life_hours: float
    history_half_life: float
    story_threshold: float
    section_scale: str
    _state: ModelState

    def _fitted(self) -> ModelState:
        try:
            return self._state
        except AttributeError:
            raise NotFittedError("this Recommender is not fitted yet; call fit(articles) or Recommender.load(path)") from None

    @property
    def article_ids(self) -> list[str]:
        """Ids of every indexed (not removed) article, in the order they were added."""
        catalog = self._fitted().catalog
        return [article_id for article_id, gone in zip(catalog.ids(), catalog.removed.tolist()) if not gone]

    def article_metadata(self, article_id: str) -> dict[str, Any]:
        """Stored metadata of an article: id, title, section, url, tags, published_at, and the
        language it was analysed in."""
        catalog = self._fitted().catalog
        return catalog.record(catalog.row(article_id_of(article_id)))

    def related(
        self,
        article_id: str,
        k: int = _PAGE.related,
        *,
        same_section: bool | None = None,
        max_age: timedelta | None = None,
        exclude: Iterable[str] = (),
        now: datetime | None = None,
        preview: bool = False,
        signed_in: bool = False,
    ) -> list[Hit]:
        """Stories about the same thing as an indexed article.

        Parameters
        ----------
        article_id : str
        k : int, default=10
        same_section : bool or None, default=None
            ``True``: only the article's own section; ``False``: only other sections.
        max_age : datetime.timedelta or None
            Only stories published within this time of the article (before or after it, but
            never after ``now``).
        exclude : iterable of str
            Ids that may not appear (unknown ids are ignored).
        now : datetime or None
            Timezone-aware site time; ``None`` is the current time. Stories published after
            it (scheduled) never appear.
        preview : bool, default=False
            Allow an article published after ``now`` (an editor previewing a scheduled story);
            without it such an article raises :class:`~recommender.EmbargoedArticleError`.
        signed_in : bool, default=False
            The reader is signed in: eligibility rules for anonymous readers do not apply.

        Returns
        -------
        list of Hit
            Up to ``k`` hits, best first, scored by :meth:`similarity` (the anchored score,
            see :mod:`recommender._profiles`); never the article itself nor a near-duplicate
            of it (TF-IDF cosine >= ``duplicate_threshold``), never two near-duplicates of
            each other; only articles in the article's language unless the model was built
            with ``cross_language=True``. Editorial rules apply (``docs/editorial.md``): blocked
            items never appear, pinned ones take their place, eligibility rules for
            ``"related"`` filter.
        """
        return self._related_in(self._fitted(), article_id, k, now=_moment(now), preview=preview,
                                signed_in=signed_in, same_section=same_section, max_age=max_age, exclude=exclude)

    def _related_in(self, state: ModelState, article_id: str, k: int, *, now: float, preview: bool = False,
                    signed_in: bool = False, same_section: bool | None = None, max_age: timedelta | None = None,
                    exclude: Iterable[str] = ()) -> list[Hit]:
        return self._related_with_rows(state, article_id, k, now=now, preview=preview, signed_in=signed_in,
                                       same_section=same_section, max_age=max_age, exclude=exclude)[0]

    def _related_with_rows(self, state: ModelState, article_id: str, k: int, *, now: float, preview: bool = False,
                           signed_in: bool = False, same_section: bool | None = None,
                           max_age: timedelta | None = None, exclude: Iterable[str] = ()) -> tuple[list[Hit], list[int]]:
        """:meth:`_related_in`, with the hits' rows (in list order) for a page's later lists."""
        k = check_k(k)
        article_id = article_id_of(article_id)
        catalog = state.catalog
        row = catalog.row(article_id)
        check_published(catalog, row, now, article_id, preview)
        exclude_rows = catalog.known_rows(check_exclude(exclude))
        pins = [pin for pin in pinned_rows(state, article_id, now) if pin[0] not in exclude_rows]
        pin_rows = np.array([pin for pin, _ in pins], dtype=np.int64)
        hidden = hidden_rows(state, "related", now, article_id=article_id, article_row=row, signed_in=signed_in)
        if len(pin_rows):  # pinned rows are placed below, not searched (hidden_rows returns a fresh mask)
            hidden = np.zeros(len(catalog), dtype=bool) if hidden is None else hidden
            hidden[pin_rows] = True
        query = self._related_query(
            k, exclude_rows=exclude_rows, query_row=row,
            section_code=int(catalog.section_codes[row]), same_section=same_section,
            published=int(catalog.published[row]), max_age_seconds=check_max_age(max_age), hidden=hidden,
            language_code=self._language_of_row(state, row),
        )
        found = related_rows(state, row, query, self.strategy, self._time_prior(state))
        if len(pin_rows) and found.hits:
            # a hit that is a near-duplicate of a pin: search again with the pins excluded like the
            # page's own stories (their near-duplicates too; the full product). Otherwise the lists agree.
            hit_rows = np.array([hit_row for hit_row, _ in found.hits], dtype=np.int64)
            cosines = state.index.pair_cosines(np.repeat(pin_rows, len(hit_rows)), np.tile(hit_rows, len(pin_rows)))
            if bool((cosines >= self.duplicate_threshold).any()):
                query = replaced(query, exclude_rows=np.concatenate([exclude_rows, pin_rows]).astype(np.int64))
                found = related_rows(state, row, query, self.strategy, self._time_prior(state))
        chosen = found.hits
        if pins:
            scores = _pair_scores(state, row, pin_rows, self._time_prior(state))
            chosen = with_pins(chosen, [(pin, position, float(score)) for (pin, position), score in zip(pins, scores)], k)
        hits = explained_hits(chosen, state.index.row_terms(row), state.index, catalog,
                              state.vectorizer.display_terms_, query.explain_terms,
                              story_tiers(found.core, [hit_row for hit_row, _ in chosen]))
        if pins:
            pinned = set(catalog.ids_of([pin for pin, _ in pins]))
            hits = [replaced(hit, explanation=f"pinned by the editors; {hit.explanation}")
                    if hit.article_id in pinned else hit for hit in hits]
        return hits, [hit_row for hit_row, _ in chosen]

    def _language_of_row(self, state: ModelState, row: int) -> int | None:
        """The language code a list for ``row`` keeps to (``None``: any, or only one in the model)."""
        if self.cross_language or state.catalog.one_language:
            return None
        return int(state.catalog.language_codes[row])

    def _language_of_text(self, state: ModelState, language: str | None) -> tuple[str, int | None]:
        """A text's analysis language and the language code its list keeps to (``None``: any)."""
        vectorizer, catalog = state.vectorizer, state.catalog
        try:
            code = vectorizer.default_language if language is None else normalize_language(language)
        except ValueError as error:
            raise InvalidOptionError(str(error)) from None
        if not vectorizer.multilingual:  # every article counts as the model's language: so does the text
            code = vectorizer.default_language
        if self.cross_language or (catalog.one_language and catalog.language_names in ([], [code])):
            return code, None
        return code, catalog.language_code(code)

    def similarity(self, article_ids: Iterable[str], other_ids: Iterable[str] | None = None) -> np.ndarray:
        """The Related score between indexed articles, as a dense matrix.

        Parameters
        ----------
        article_ids : iterable of str
        other_ids : iterable of str or None
            Columns; ``None`` for ``article_ids`` again.

        Returns
        -------
        ndarray of float32, shape (len(article_ids), len(other_ids))
            What :meth:`related` ranks by: the anchored score with ``neighbours > 0``, the
            TF-IDF cosine with ``neighbours=0``. The diagonal is about 1 (0 for an article
            without a known word).
        """
        state = self._fitted()
        rows = state.catalog.rows(check_exclude(article_ids, "article_ids"))
        columns = rows if other_ids is None else state.catalog.rows(check_exclude(other_ids, "other_ids"))
        return similarity_matrix(state, rows, columns, self._time_prior(state))

    def related_batch(
        self, article_ids: Iterable[str] | None = None, k: int = _PAGE.related, *, block_size: int = 256,
        now: datetime | None = None, preview: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Related lists of many articles at once (default filters), as arrays.

        Row ``i`` equals ``related(article_ids[i], k, now=now)`` (ids and scores), computed
        block by block with the model's ``strategy`` (see :mod:`recommender._related.search`);
        editorial rules apply as there, for an anonymous reader.

        Parameters
        ----------
        article_ids : iterable of str or None
            ``None`` for every article published by ``now``, in :attr:`article_ids` order.
        k : int, default=10
        block_size : int, default=256
            Articles per sparse product; memory grows with it.
        now : datetime or None
            Timezone-aware site time (``None``: the current time): stories published later
            appear in no list.
        preview : bool, default=False
            Allow ``article_ids`` published after ``now`` (else
            :class:`~recommender.EmbargoedArticleError`).

        Returns
        -------
        ids : ndarray of object, shape (n, k)
            ``""`` where a list is shorter than ``k``. A ``k`` above the number of other
            articles is lowered to it.
        scores : ndarray of float32, shape (n, k)
            ``nan`` where a list is shorter than ``k``.
        """
        state = self._fitted()
        moment = _moment(now)
        catalog = state.catalog
        # a list holds at most every other article: a larger k would only widen the arrays
        k = min(check_k(k), max(1, len(catalog) - 1))
        block_size = check_k(block_size, "block_size")
        if article_ids is None:
            rows = np.flatnonzero(~catalog.removed & (catalog.published <= moment))
        else:
            ids = check_exclude(article_ids)
            rows = catalog.rows(ids)
            for article_id, row in zip(ids, rows.tolist()):
                check_published(catalog, row, moment, article_id, preview)
        resolve_strategy(self.strategy, state)  # a bad strategy fails before any work
        return self._related_batch_in(state, rows, k, moment, block_size)

    def _related_batch_in(self, state: ModelState, rows: np.ndarray, k: int, now: float,
                          block_size: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`related_batch` of ``rows`` at epoch ``now``: rows sharing their visibility mask
        (the same values of the fields ``$article`` rules compare) go through the block search
        together; articles with pins or blocks of their own take the single-article path."""
        catalog, rules = state.catalog, state.rules
        ids = np.full((len(rows), k), "", dtype=object)
        scores = np.full((len(rows), k), np.nan, dtype=np.float32)
        own = set(rules.pins) | set(rules.blocked_under)
        single = np.zeros(len(rows), dtype=bool)
        if own:
            single[:] = [article_id in own for article_id in catalog.ids_of(rows)]
        relative = [rule for rule in rules.eligibility if rule.list == "related" and rule.relative]
        keys = np.stack([(catalog.section_codes if rule.field == "section" else catalog.language_codes)[rows]
                         for rule in relative] or [np.zeros(len(rows), dtype=np.int32)], axis=1)
        _, group_of = np.unique(keys, axis=0, return_inverse=True)
        for group in np.unique(group_of[~single]):
            positions = np.flatnonzero((group_of.ravel() == group) & ~single)
            hidden = hidden_rows(state, "related", now, article_row=int(rows[positions[0]]))
            ids[positions], scores[positions] = related_arrays(
                state, rows[positions], k, self.duplicate_threshold, self.min_similarity, block_size=block_size,
                strategy=self.strategy, hidden=hidden, cross_language=self.cross_language,
                prior=self._time_prior(state))
        for position in np.flatnonzero(single).tolist():
            hits = self._related_in(state, catalog.id(int(rows[position])), k, now=now, preview=True)
            ids[position, :len(hits)] = [hit.article_id for hit in hits]
            scores[position, :len(hits)] = [hit.score for hit in hits]
        return ids, scores

    def related_to_text(
        self,
        title: str,
        body: str,
        k: int = _PAGE.related,
        *,
        section: str | None = None,
        published_at: datetime | str | None = None,
        same_section: bool | None = None,
        max_age: timedelta | None = None,
        exclude: Iterable[str] = (),
        now: datetime | None = None,
        signed_in: bool = False,
        language: str | None = None,
    ) -> list[Hit]:
        """Related stories for a text that is not indexed (a draft, a just-published story).

        Parameters
        ----------
        title, body : str
            Plain text or HTML.
        k : int, default=10
        section : str or None
            The text's section, for ``same_section``.
        published_at : datetime or ISO 8601 str, optional
            The text's publication time, required with ``max_age``.
        same_section, max_age, exclude, now, signed_in
            As in :meth:`related`.
        language : str or None
            The text's language (``"es"``, ``"de-AT"``...): it is analysed in it and, unless
            the model has ``cross_language=True``, related only to articles in it. ``None``:
            the model's ``language`` option.

        Returns
        -------
        list of Hit
            Indexed copies of the text itself (near-duplicates) are left out.

        Raises
        ------
        InvalidOptionError
            A language the analysis does not support.
        """
        state = self._fitted()
        k = check_k(k)
        moment = _moment(now)
        if not isinstance(title, str) or not isinstance(body, str):
            raise InvalidOptionError("title and body must be strings")
        limits = ArticleLimits()
        if len(title) + len(body) > limits.max_body_chars:
            raise InvalidInputError(f"text of {len(title) + len(body):,} characters is above the limit of "
                                    f"{limits.max_body_chars:,}")
        max_age_seconds = check_max_age(max_age)
        published = None
        if published_at is not None:
            try:
                published = epoch_seconds(parse_datetime(published_at))
            except ValueError as error:
                raise InvalidOptionError(str(error)) from None
        elif max_age_seconds is not None:
            raise InvalidOptionError("max_age needs published_at for a text that is not indexed")
        analysis_language, language_code = self._language_of_text(state, language)
        vector = state.vectorizer.transform([html_to_text(title)], [html_to_text(body)], [analysis_language])
        query = self._related_query(
            k, exclude_rows=state.catalog.known_rows(check_exclude(exclude)),
            section_code=state.catalog.section_code(check_section(section)), same_section=same_section,
            published=published, max_age_seconds=max_age_seconds, language_code=language_code,
            hidden=hidden_rows(state, "related", moment, signed_in=signed_in),
        )
        found = related_text_rows(state, vector, query)
        return explained_hits(found.hits, vector, state.index, state.catalog, state.vectorizer.display_terms_,
                              query.explain_terms, story_tiers(found.core, [hit_row for hit_row, _ in found.hits]))

    def _time_prior(self, state: ModelState) -> TimePrior | None:
        """The time-proximity prior of the Related score (``time_scale_days``), or ``None``."""
        scale = resolved_scale(getattr(self, "time_scale_days", None), state)
        return None if scale is None else TimePrior(scale, float(self.time_floor))

    def _related_query(self, k: int, *, same_section: Any, **context: Any) -> RelatedQuery:
        return RelatedQuery(k=k, duplicate_threshold=self.duplicate_threshold, min_similarity=self.min_similarity,
                            same_section=check_same_section(same_section), explain_terms=self.explain_terms,
                            **context)

    def ranking(
        self,
        k: int = _PAGE.ranking,
        section: str | None = None,
        now: datetime | None = None,
        *,
        mode: str = "popular",
        exclude: Iterable[str] = (),
        signed_in: bool = False,
    ) -> list[Hit]:
        """Most popular (or trending) stories at ``now``.

        Parameters
        ----------
        k : int, default=8
        section : str or None
            Only this section.
        now : datetime or None
            Timezone-aware; ``None`` is the current time. A fixed ``now`` gives a fixed list.
        mode : {"popular", "trending"}, default="popular"
            ``"trending"`` ranks by reaction velocity against the story's own baseline.
        exclude : iterable of str
            Ids that may not appear.
        signed_in : bool, default=False
            The reader is signed in: eligibility rules for anonymous readers do not apply.

        Returns
        -------
        list of Hit
            Up to ``k`` stories published within ``ranking_max_age`` before ``now`` with at
            least one reaction, best first, ties by id; one copy of any republished story.
        """
        state = self._fitted()
        check_choice(mode, "mode", _MODES)
        moment = _moment(now)
        query = RankingQuery(
            k=check_k(k), now=moment, mode=mode,
            section_code=None if check_section(section) is None else state.catalog.section_code(section),
            exclude_rows=state.catalog.known_rows(check_exclude(exclude)),
            duplicate_threshold=self.duplicate_threshold,
            hidden=hidden_rows(state, "ranking", moment, signed_in=signed_in),
        )
        return ranking_list(state.popularity, state.index, state.catalog, query, state.profiles)

    def recommend(
        self,
        article_id: str | None = None,
        history: Iterable[str] = (),
        k: int = _PAGE.recommendation,
        now: datetime | None = None,
        *,
        exclude: Iterable[str] = (),
        preview: bool = False,
        signed_in: bool = False,
    ) -> list[Hit]:
        """What this reader should read next.

        Parameters
        ----------
        article_id : str or None
            The article being read (``None`` on a home page).
        history : iterable of str
            Ids the reader read before, oldest first; ids not in the model are ignored
            (histories outlive archives). Read stories are never recommended.
        k : int, default=8
        now : datetime or None
            Timezone-aware; nothing published later is recommended.
        exclude : iterable of str
            Ids that may not appear, nor their near-duplicates.
        preview : bool, default=False
            Allow an ``article_id`` published after ``now`` (else
            :class:`~recommender.EmbargoedArticleError`).
        signed_in : bool, default=False
            The reader is signed in: eligibility rules for anonymous readers do not apply.

        Returns
        -------
        list of Hit
            Up to ``k`` hits, ``score`` the blended relevance (see :mod:`recommender._recommend`);
            full whenever ``k`` stories published by ``now`` remain after the exclusions,
            so new readers and new articles get full lists too.
        """
        state = self._fitted()
        k = check_k(k)
        moment = _moment(now)
        return self._recommend(state, article_id, history, k, moment, state.catalog.known_rows(check_exclude(exclude)),
                               preview=preview, signed_in=signed_in)

    def _recommend_query(self, state: ModelState, article_id: str | None, history: Iterable[str], k: int,
                         now: float, avoid: np.ndarray, *, preview: bool = True,
                         signed_in: bool = False) -> RecommendQuery:
        history_rows = state.catalog.known_rows(check_exclude(history, "history"))
        row = language_code = None
        if article_id is not None:
            article_id = article_id_of(article_id)
            row = state.catalog.row(article_id)
            check_published(state.catalog, row, now, article_id, preview)
            avoid = np.append(avoid, row)
            language_code = self._language_of_row(state, row)
        return RecommendQuery(
            k=k, now=now, article_row=row, history_rows=history_rows,
            exclude_rows=np.concatenate([avoid, history_rows]).astype(np.int64),
            weights=BlendWeights.of(self.blend_weights, self.blend), diversity=float(self.diversity),
            freshness_half_life_hours=float(self.freshness_half_life_hours),
            history_half_life=float(self.history_half_life), duplicate_threshold=self.duplicate_threshold,
            min_similarity=self.min_similarity, explain_terms=self.explain_terms,
            story_threshold=float(self.story_threshold), blend=self.blend, section_scale=self.section_scale,
            language_code=language_code,
            hidden=hidden_rows(state, "recommendation", now, article_id=article_id, article_row=row,
                               signed_in=signed_in),
        )

    def _recommend(self, state: ModelState, article_id: str | None, history: Iterable[str], k: int,
                   now: float, avoid: np.ndarray, *, preview: bool = False, signed_in: bool = False) -> list[Hit]:
        query = self._recommend_query(state, article_id, history, k, now, avoid, preview=preview, signed_in=signed_in)
        return recommendation_list(state, query)

    def _relevance(self, candidates: Iterable[str], history: Iterable[str] = (), now: datetime | None = None,
                   article_id: str | None = None, *, signal: str | None = None) -> np.ndarray:
        """The Recommendation relevance of each candidate id, as :meth:`recommend` ranks them
        before diversification (for offline evaluation on logged impressions); with ``signal``
        (a name of :data:`~recommender._recommend.SIGNALS`), that signal alone, unweighted."""
        state = self._fitted()
        query = self._recommend_query(state, article_id, history, 1, float(epoch_seconds(check_now(now))),
                                      np.empty(0, dtype=np.int64))
        if signal is not None:
            check_choice(signal, "signal", SIGNALS)
            query = replaced(query, weights=BlendWeights(**{name: float(name == signal) for name in SIGNALS}))
        rows = state.catalog.rows(check_exclude(candidates, "candidates"))
        return relevance_of(state, rows, query).sum(axis=1)

    def page(
        self,
        article_id: str,
        history: Iterable[str] = (),
        now: datetime | None = None,
        *,
        sizes: PageSizes | None = None,
        related_k: int | None = None,
        ranking_k: int | None = None,
        recommendation_k: int | None = None,
        same_section: bool | None = None,
        max_age: timedelta | None = None,
        exclude: Iterable[str] = (),
        preview: bool = False,
        signed_in: bool = False,
    ) -> Page:
        """The three lists under an article: Related (10), Ranking (8), Recommendation (8).

        No story appears twice on the page, nor a near-duplicate of a story already on it,
        nor the page's own article; each list is back-filled from its next candidates.
        One fitted state serves the whole page, even while writers publish new ones.

        Parameters
        ----------
        article_id : str
        history : iterable of str
            As in :meth:`recommend`.
        now : datetime or None
            Timezone-aware; ``None`` is the current time.
        sizes : PageSizes or None
            List lengths (default ``PageSizes()``: 10, 8, 8).
        related_k, ranking_k, recommendation_k : int or None
            Override one length of ``sizes``.
        same_section, max_age : optional
            Related filters, as in :meth:`related`.
        exclude : iterable of str
            Ids that may appear on none of the three lists.
        preview, signed_in : bool, default=False
            As in :meth:`related`. Editorial rules apply to each list as in the single calls;
            a block under the article applies to all three.

        Returns
        -------
        Page
        """
        sizes = sizes if sizes is not None else _PAGE
        if not isinstance(sizes, PageSizes):
            raise InvalidOptionError(f"sizes must be a PageSizes, got {type(sizes).__name__}")
        related_k = check_k(sizes.related if related_k is None else related_k)
        ranking_k = check_k(sizes.ranking if ranking_k is None else ranking_k)
        recommendation_k = check_k(sizes.recommendation if recommendation_k is None else recommendation_k)
        state = self._fitted()
        moment = _moment(now)
        article_id = article_id_of(article_id)
        row = state.catalog.row(article_id)
        excluded = state.catalog.known_rows(check_exclude(exclude))
        related, related_rows = self._related_with_rows(
            state, article_id, related_k, now=moment, preview=preview, signed_in=signed_in,
            same_section=same_section, max_age=max_age, exclude=state.catalog.ids_of(excluded))
        taken = np.concatenate([excluded, related_rows, [row]]).astype(np.int64)
        ranking, ranking_rows = ranked(state.popularity, state.index, state.catalog, RankingQuery(
            k=ranking_k, now=moment, mode="popular", section_code=None,
            exclude_rows=taken, duplicate_threshold=self.duplicate_threshold,
            hidden=hidden_rows(state, "ranking", moment, article_id=article_id, article_row=row, signed_in=signed_in),
        ), state.profiles)
        taken = np.append(taken, ranking_rows)
        recommendation = self._recommend(state, article_id, history, recommendation_k, moment, taken,
                                         preview=True, signed_in=signed_in)
        return Page(related, ranking, recommendation)
