"""The :class:`Recommender` estimator: fit on articles and reactions, then serve lists by id.

It wires the one-way pipeline together: validated articles (:mod:`.articles`) become
TF-IDF rows (:mod:`.vectorize`) in an exact cosine index (:mod:`.index`); reactions
(:mod:`.reactions`, :mod:`.ingest`) update decayed popularity (:mod:`.popularity`); the list
builders (:mod:`.lists`) turn scores into :class:`~recommender.lists.Hit` lists;
:mod:`.persist` and :mod:`.store` save and load the fitted state as plain arrays and JSON.

Thread safety: the fitted state is one object replaced as a whole by writers
(:meth:`~Recommender.add_articles`, :meth:`~Recommender.record_reactions`, which also
serialise on a lock), and every query reads it once, so concurrent queries always see
one consistent state of the model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import options, store, updates
from .articles import Article, ArticleLimits, load_articles, parse_datetime
from .catalog import Catalog
from .checks import (
    check_choice,
    check_exclude,
    check_k,
    check_max_age,
    check_now,
    check_same_section,
    check_section,
    epoch_seconds,
)
from .exceptions import CorruptArtifactError, InvalidInputError, InvalidOptionError, NotFittedError
from .index import CosineIndex
from .ingest import ReactionReport
from .batch import related_arrays, related_from_profiles
from .blend import RecommendQuery, recommendation_list
from .lists import Hit, Page, RankingQuery, RelatedQuery, explained_hits, filtered_out, ranking_list, related_list
from .markup import html_to_text
from .persist import Fitted, from_artifact, to_artifact
from .popularity import PopularityState
from .profiles import NeighbourProfiles, neighbour_profiles
from .reactions import load_reactions
from .vectorize import TextVectorizer

__all__ = ["Recommender"]

_MODES = ("popular", "trending")


class Recommender:
    """Related, Ranking (and Recommendation) lists for a news site.

    Parameters
    ----------
    title_weight : float, default=2.0
        Weight of a title word relative to a body word.
    stop_words : {"english", None}, default="english"
    sublinear_tf : bool, default=True
    min_df : int, default=1
    max_df : float, default=0.9
        Drop terms found in more than this share of articles.
    max_features : int or None, default=None
    proper_noun_weight : int, default=2
        How many times a proper noun (a capitalised word not opening a sentence) counts.
    stem : bool, default=True
        Fold inflections with the Snowball English stemmer (``strikes`` -> ``strike``).
    neighbours : int, default=50
        Profile length ``m`` of the anchored score (see :mod:`recommender.profiles`): each
        article is also described by its ``m`` most similar articles, which bridges
        vocabulary between stories about the same thing. ``0`` scores Related lists by
        plain TF-IDF cosine and skips the fit-time all-pairs search.
    n_jobs : int or None, default=None
        Threads for the fit-time neighbour search (``None`` is 1, ``-1`` every core); inside
        ``joblib.parallel_config(backend="dask")`` (or another non-default joblib backend), the
        number of workers the search is spread over (``None``: the context's).
    duplicate_threshold : float, default=0.8
        Cosine similarity at or above which two articles are the same story
        (a republished wire story); such articles never appear in each other's lists and
        at most one of them appears in any list. Partners often rewrite the headline, which
        the title weight turns into a drop from ~0.95 to ~0.88; separate articles on one
        story stay below ~0.5 on the sample corpus.
    min_similarity : float, default=0.05
        TF-IDF cosine below which an article is not related: a Related list may be shorter
        than ``k`` rather than padded with stories that share only common words. (The
        anchored score orders the list; on the sample corpus and synthetic stories its
        hits below 0.15 were never same-story, so the gate stays on the cosine.)
    explain_terms : int, default=3
        Shared terms attached to each Related hit (``0`` to skip that work).
    reaction_weights : mapping of str to float or None, default=None
        Weight of each reaction type (e.g. ``{"veryGood": 1, "good": 1, "sad": 0.5}``);
        ``None`` counts every type 1.
    unknown_reactions : {"error", "ignore"}, default="error"
        What to do with a type ``reaction_weights`` does not name.
    decay : {"exponential", "gravity"}, default="exponential"
        Popularity decay (see :mod:`recommender.popularity`).
    half_life_hours : float, default=6.0
    gravity : float, default=1.8
    prior_hours : float, default=1.0
        Bayesian smoothing strength, in hours of exposure at the site's mean rate.
    ranking_max_age : datetime.timedelta, default=7 days
        Ranking lists consider only stories published this long before ``now``.
    blend_weights : mapping or None, default=None
        Weights of the Recommendation signals ``article``, ``history``, ``popularity``,
        ``freshness`` (see :mod:`recommender.blend`); ``None`` is 0.4, 0.3, 0.15, 0.15.
    diversity : float, default=0.3
        Maximal-marginal-relevance trade-off in [0, 1): 0 ranks by relevance alone.
    freshness_half_life_hours : float, default=48.0
        Age at which the freshness signal halves.
    history_half_life : float, default=5.0
        Reads back at which a history item weighs half as much as the newest one.
    story_threshold : float, default=0.1
        Cosine from which two articles count as one story when the first four
        Recommendation places are given to different stories.

    Attributes
    ----------
    vectorizer_ : TextVectorizer
    index_ : CosineIndex
    catalog_ : Catalog
    popularity_ : PopularityState

    Examples
    --------
    >>> from recommender import Recommender, load_articles
    >>> from recommender.datasets import sample_articles_path
    >>> rec = Recommender().fit(load_articles(sample_articles_path()))
    >>> hits = rec.related(rec.article_ids[0], k=3)
    >>> len(hits)
    3
    """

    def __init__(
        self,
        *,
        title_weight: float = 2.0,
        stop_words: str | None = "english",
        sublinear_tf: bool = True,
        min_df: int = 1,
        max_df: float = 0.9,
        max_features: int | None = None,
        proper_noun_weight: int = 2,
        stem: bool = True,
        neighbours: int = 50,
        n_jobs: int | None = None,
        duplicate_threshold: float = 0.8,
        min_similarity: float = 0.05,
        explain_terms: int = 3,
        reaction_weights: Mapping[str, float] | None = None,
        unknown_reactions: str = "error",
        decay: str = "exponential",
        half_life_hours: float = 6.0,
        gravity: float = 1.8,
        prior_hours: float = 1.0,
        ranking_max_age: timedelta = timedelta(days=7),
        blend_weights: Mapping[str, float] | None = None,
        diversity: float = 0.3,
        freshness_half_life_hours: float = 48.0,
        history_half_life: float = 5.0,
        story_threshold: float = 0.1,
    ) -> None:
        self.title_weight = title_weight
        self.stop_words = stop_words
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.proper_noun_weight = proper_noun_weight
        self.stem = stem
        self.neighbours = neighbours
        self.n_jobs = n_jobs
        self.duplicate_threshold = duplicate_threshold
        self.min_similarity = min_similarity
        self.explain_terms = explain_terms
        self.reaction_weights = reaction_weights
        self.unknown_reactions = unknown_reactions
        self.decay = decay
        self.half_life_hours = half_life_hours
        self.gravity = gravity
        self.prior_hours = prior_hours
        self.ranking_max_age = ranking_max_age
        self.blend_weights = blend_weights
        self.diversity = diversity
        self.freshness_half_life_hours = freshness_half_life_hours
        self.history_half_life = history_half_life
        self.story_threshold = story_threshold

    # ------------------------------------------------------------------ options
    _PARAMS = ("title_weight", "stop_words", "sublinear_tf", "min_df", "max_df", "max_features", "proper_noun_weight",
               "stem", "neighbours", "n_jobs", "duplicate_threshold", "min_similarity", "explain_terms", "reaction_weights",
               "unknown_reactions", "decay", "half_life_hours", "gravity", "prior_hours", "ranking_max_age",
               "blend_weights", "diversity", "freshness_half_life_hours", "history_half_life",
               "story_threshold")

    def get_params(self) -> dict[str, Any]:
        """The constructor options."""
        return {name: getattr(self, name) for name in self._PARAMS}

    # ------------------------------------------------------------------ fitting
    def fit(self, articles: Iterable[Article | dict] | str | os.PathLike, reactions: Any = None) -> Recommender:
        """Learn the vocabulary, index every article and record reactions.

        Parameters
        ----------
        articles : iterable of Article or dict, DataFrame, or path
            Validated with :func:`~recommender.load_articles`; ids must be unique.
        reactions : iterable of Reaction or dict, DataFrame, path, or None
            Validated with :func:`~recommender.load_reactions`, then recorded as by
            :meth:`record_reactions` (at the current time).

        Returns
        -------
        self
        """
        options.validate(self.get_params())
        articles = load_articles(articles)
        if not articles:
            raise InvalidInputError("cannot fit on zero articles")
        vectorizer = TextVectorizer(
            title_weight=self.title_weight, stop_words=self.stop_words, sublinear_tf=self.sublinear_tf,
            min_df=self.min_df, max_df=self.max_df, max_features=self.max_features,
            proper_noun_weight=self.proper_noun_weight, stem=self.stem,
        )
        vectors = vectorizer.fit_transform([a.title for a in articles], [a.body for a in articles])
        index = CosineIndex(vectors)
        profiles = self._neighbour_profiles(index) if self.neighbours else None
        popularity = PopularityState(options.popularity_config(self.get_params()), len(articles))
        self._lock = threading.Lock()
        self._state = Fitted(vectorizer, index, Catalog([Catalog.record_of(a) for a in articles]), popularity,
                             profiles=profiles)
        self.reaction_report_ = self.record_reactions(reactions) if reactions is not None else ReactionReport()
        return self

    def _neighbour_profiles(self, index: CosineIndex) -> NeighbourProfiles:
        """Every article's ``neighbours`` most similar articles (an all-pairs search; progress bar on a TTY).

        By default the search runs here, on ``n_jobs`` threads. Inside a joblib context with
        another backend (``joblib.parallel_config(backend="dask")`` with a Dask client: a
        cluster) its row blocks run as joblib tasks instead, on ``n_jobs`` workers.
        """
        import joblib  # here: serving processes never search

        threads = (os.cpu_count() or 1) if self.n_jobs == -1 else (self.n_jobs or 1)
        run_blocks = None
        backend, _ = joblib.parallel.get_active_backend()
        if not isinstance(backend, joblib.parallel.BACKENDS[joblib.parallel.DEFAULT_BACKEND]):
            threads = 1

            def run_blocks(function, arguments):
                tasks = (joblib.delayed(function)(*args) for args in arguments)
                return joblib.Parallel(n_jobs=self.n_jobs, return_as="generator")(tasks)
        n = index.n_rows
        with tqdm(total=n, desc="neighbour profiles", unit="article", disable=None if n >= 20_000 else True) as bar:
            return neighbour_profiles(index.vectors, index.postings, self.neighbours, n_threads=threads,
                                      progress=bar.update, run_blocks=run_blocks)

    def add_articles(self, articles: Iterable[Article | dict] | str | os.PathLike) -> Recommender:
        """Index new articles with the fitted vocabulary and IDF; no refit.

        They are searchable as soon as this returns, and pending reactions to them apply.
        Ids already in the model raise :class:`~recommender.exceptions.DuplicateArticleError`
        and nothing is added.

        Returns
        -------
        self
        """
        self._fitted()
        articles = load_articles(articles)
        if not articles:
            return self
        with self._lock:
            self._state, waiting = updates.with_articles(self._state, articles)
        if waiting:
            self.record_reactions(waiting)
        return self

    def drift(self, *, max_added_share: float = 0.25, min_known_share: float = 0.85) -> dict[str, Any]:
        """Whether the vocabulary and IDF still fit the archive, or a refit is due.

        Articles added since :meth:`fit` are vectorised with the fitted vocabulary: words it
        never saw (new names, new events) are left out of their vectors, and document
        frequencies drift as the archive grows. Both are measured here.

        Parameters
        ----------
        max_added_share : float, default=0.25
            Advise a refit once added articles exceed this share of the fitted ones.
        min_known_share : float, default=0.85
            Advise a refit once fewer of the added articles' tokens than this are known.

        Returns
        -------
        dict
            ``fitted``, ``added``, ``added_share``, ``known_token_share`` (of added articles,
            ``None`` before any), ``refit_advised`` (bool) and ``reasons`` (list of str).
        """
        return updates.drift_report(self._fitted().growth, max_added_share=max_added_share,
                                    min_known_share=min_known_share)

    def remove_articles(self, article_ids: Iterable[str]) -> Recommender:
        """Unpublish articles: they leave every list at once; their ids become unknown.

        The vectors stay in the matrices (no rebuild) until the next :meth:`fit`; an id may
        be added again later. Unknown ids raise :class:`~recommender.UnknownArticleError`
        and nothing is removed.

        Returns
        -------
        self
        """
        ids = check_exclude(article_ids, "article_ids")
        self._fitted()
        with self._lock:
            self._state = updates.without_articles(self._state, ids)
        return self

    def record_reactions(self, reactions: Any, *, now: datetime | None = None) -> ReactionReport:
        """Add reactions to the popularity state (incremental; no text model is touched).

        Parameters
        ----------
        reactions : iterable of Reaction or dict, DataFrame, or path
            Events or counts (see :mod:`recommender.reactions`).
        now : datetime, optional
            Reactions later than ``now`` (plus 5 minutes of clock skew) are refused.

        Returns
        -------
        ReactionReport
            Counts applied, kept pending (unknown article ids, applied when the article
            is added) and ignored (unknown types with ``unknown_reactions="ignore"``).

        Raises
        ------
        InvalidInputError
            A malformed record, a negative count, a naive or future timestamp, an unknown
            type under ``unknown_reactions="error"``; nothing of the batch is applied then.
        """
        self._fitted()
        moment = epoch_seconds(check_now(now))
        records = load_reactions(reactions)
        with self._lock:
            self._state, report = updates.with_reactions(self._state, records, weights=self.reaction_weights,
                                                         unknown_reactions=self.unknown_reactions, now=moment)
        return report

    def _fitted(self) -> Fitted:
        try:
            return self._state
        except AttributeError:
            raise NotFittedError("this Recommender is not fitted yet; call fit(articles) or Recommender.load(path)") from None

    vectorizer_ = property(lambda self: self._fitted().vectorizer, doc="The fitted TextVectorizer.")
    index_ = property(lambda self: self._fitted().index, doc="The CosineIndex of article vectors.")
    profiles_ = property(lambda self: self._fitted().profiles,
                         doc="The NeighbourProfiles behind the anchored score (None with neighbours=0).")
    catalog_ = property(lambda self: self._fitted().catalog, doc="The Catalog of ids and metadata.")
    popularity_ = property(lambda self: self._fitted().popularity, doc="The PopularityState.")

    # ------------------------------------------------------------------ queries
    @property
    def article_ids(self) -> list[str]:
        """Ids of every indexed (not removed) article, in the order they were added."""
        catalog = self._fitted().catalog
        return [article_id for article_id, gone in zip(catalog.ids(), catalog.removed.tolist()) if not gone]

    def article_metadata(self, article_id: str) -> dict[str, Any]:
        """Stored metadata of an article: id, title, section, url, tags, published_at."""
        catalog = self._fitted().catalog
        return catalog.record(catalog.row(article_id))

    def related(
        self,
        article_id: str,
        k: int = 10,
        *,
        same_section: bool | None = None,
        max_age: timedelta | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Hit]:
        """Stories about the same thing as an indexed article.

        Parameters
        ----------
        article_id : str
        k : int, default=10
        same_section : bool or None, default=None
            ``True``: only the article's own section; ``False``: only other sections.
        max_age : datetime.timedelta or None
            Only stories published within this time of the article (before or after).
        exclude : iterable of str
            Ids that may not appear (unknown ids are ignored).

        Returns
        -------
        list of Hit
            Up to ``k`` hits, best first, scored by :meth:`similarity` (the anchored score,
            see :mod:`recommender.profiles`); never the article itself nor a near-duplicate
            of it (TF-IDF cosine >= ``duplicate_threshold``), never two near-duplicates of
            each other.
        """
        return self._related_in(self._fitted(), article_id, k, same_section=same_section, max_age=max_age,
                                exclude=exclude)

    def _related_in(self, state: Fitted, article_id: str, k: int, *, same_section: bool | None = None,
                    max_age: timedelta | None = None, exclude: Iterable[str] = ()) -> list[Hit]:
        k = check_k(k)
        row = state.catalog.row(article_id)
        vector = state.index.row_vector(row)
        query = self._related_query(
            k,
            exclude_rows=state.catalog.known_rows(check_exclude(exclude)),
            query_row=row,
            section_code=int(state.catalog.section_codes[row]),
            same_section=same_section,
            published=int(state.catalog.published[row]),
            max_age_seconds=check_max_age(max_age),
        )
        terms = state.vectorizer.display_terms_
        if not len(query.exclude_rows):
            # the list from the profiles' candidates and exact score bounds (the batch path, equal
            # bit for bit), without a product over the whole archive's postings, when they settle it
            chosen = related_from_profiles(state, row, k, self.duplicate_threshold, self.min_similarity,
                                           filtered_out(state.catalog, query))
            if chosen is not None:
                return explained_hits(chosen, vector, state.index, state.catalog, terms, query.explain_terms)
        cosines = state.index.scores(vector)
        scores = state.profiles.for_row(row, cosines) if state.profiles is not None else cosines
        return related_list(scores, cosines, vector, state.index, state.catalog, terms, query, state.profiles)

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
        scores = state.index.product(state.index.select(rows))
        if state.profiles is not None:
            scores = state.profiles.block_scores(rows, scores)
        return scores[:, columns].toarray().astype(np.float32)

    def related_batch(
        self, article_ids: Iterable[str] | None = None, k: int = 10, *, block_size: int = 256
    ) -> tuple[np.ndarray, np.ndarray]:
        """Related lists of many articles at once (default filters), as arrays.

        Row ``i`` equals ``related(article_ids[i], k)`` (ids and scores), computed block by
        block (see :mod:`recommender.batch`: from the neighbour profiles with exact score
        bounds, or one sparse product per block).

        Parameters
        ----------
        article_ids : iterable of str or None
            ``None`` for every article, in :attr:`article_ids` order.
        k : int, default=10
        block_size : int, default=256
            Articles per sparse product; memory grows with it.

        Returns
        -------
        ids : ndarray of object, shape (n, k)
            ``""`` where a list is shorter than ``k``.
        scores : ndarray of float32, shape (n, k)
            ``nan`` where a list is shorter than ``k``.
        """
        state = self._fitted()
        k = check_k(k)
        block_size = check_k(block_size)
        rows = (np.flatnonzero(~state.catalog.removed) if article_ids is None
                else state.catalog.rows(check_exclude(article_ids)))
        return related_arrays(state, rows, k, self.duplicate_threshold, self.min_similarity, block_size=block_size)

    def related_to_text(
        self,
        title: str,
        body: str,
        k: int = 10,
        *,
        section: str | None = None,
        published_at: datetime | str | None = None,
        same_section: bool | None = None,
        max_age: timedelta | None = None,
        exclude: Iterable[str] = (),
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
        same_section, max_age, exclude
            As in :meth:`related`.

        Returns
        -------
        list of Hit
            Indexed copies of the text itself (near-duplicates) are left out.
        """
        state = self._fitted()
        k = check_k(k)
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
        vector = state.vectorizer.transform([html_to_text(title)], [html_to_text(body)])
        query = self._related_query(
            k,
            exclude_rows=state.catalog.known_rows(check_exclude(exclude)),
            section_code=state.catalog.section_code(check_section(section)),
            same_section=same_section,
            published=published,
            max_age_seconds=max_age_seconds,
        )
        cosines = state.index.scores(vector)
        scores = state.profiles.for_text(cosines) if state.profiles is not None else cosines
        return related_list(scores, cosines, vector, state.index, state.catalog, state.vectorizer.display_terms_, query,
                            state.profiles)

    def _related_query(self, k: int, *, same_section: Any, **context: Any) -> RelatedQuery:
        return RelatedQuery(
            k=k,
            duplicate_threshold=self.duplicate_threshold,
            min_similarity=self.min_similarity,
            same_section=check_same_section(same_section),
            explain_terms=self.explain_terms,
            **context,
        )

    def ranking(
        self,
        k: int = 8,
        section: str | None = None,
        now: datetime | None = None,
        *,
        mode: str = "popular",
        exclude: Iterable[str] = (),
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

        Returns
        -------
        list of Hit
            Up to ``k`` stories published within ``ranking_max_age`` before ``now`` with at
            least one reaction, best first, ties by id; one copy of any republished story.
        """
        state = self._fitted()
        check_choice(mode, "mode", _MODES)
        query = RankingQuery(
            k=check_k(k),
            now=float(epoch_seconds(check_now(now))),
            mode=mode,
            section_code=None if check_section(section) is None else state.catalog.section_code(section),
            exclude_rows=state.catalog.known_rows(check_exclude(exclude)),
            duplicate_threshold=self.duplicate_threshold,
        )
        return ranking_list(state.popularity, state.index, state.catalog, query)

    def recommend(
        self,
        article_id: str | None = None,
        history: Iterable[str] = (),
        k: int = 8,
        now: datetime | None = None,
        *,
        exclude: Iterable[str] = (),
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

        Returns
        -------
        list of Hit
            Up to ``k`` hits, ``score`` the blended relevance (see :mod:`recommender.blend`);
            full whenever ``k`` stories published by ``now`` remain after the exclusions,
            so new readers and new articles get full lists too.
        """
        state = self._fitted()
        k = check_k(k)
        moment = float(epoch_seconds(check_now(now)))
        return self._recommend(state, article_id, history, k, moment, state.catalog.known_rows(check_exclude(exclude)))

    def _recommend(self, state: Fitted, article_id: str | None, history: Iterable[str], k: int,
                   now: float, avoid: np.ndarray) -> list[Hit]:
        history_rows = state.catalog.known_rows(check_exclude(history, "history"))
        article_vector = None
        if article_id is not None:
            row = state.catalog.row(article_id)
            article_vector = state.index.row_vector(row)
            avoid = np.append(avoid, row)
        query = RecommendQuery(
            k=k, now=now, article_vector=article_vector, history_rows=history_rows,
            exclude_rows=np.concatenate([avoid, history_rows]).astype(np.int64), weights=options.blend_weights(self.blend_weights),
            diversity=float(self.diversity), freshness_half_life_hours=float(self.freshness_half_life_hours),
            history_half_life=float(self.history_half_life), duplicate_threshold=self.duplicate_threshold,
            min_similarity=self.min_similarity, explain_terms=self.explain_terms,
            story_threshold=float(self.story_threshold),
        )
        return recommendation_list(state.index, state.catalog, state.popularity, state.vectorizer.display_terms_, query)

    def page(self, article_id: str, history: Iterable[str] = (), now: datetime | None = None) -> Page:
        """The three lists under an article: Related (10), Ranking (8), Recommendation (8).

        No story appears twice on the page, nor a near-duplicate of a story already on it,
        nor the page's own article; each list is back-filled from its next candidates.

        Returns
        -------
        Page
        """
        state = self._fitted()  # one state for the whole page, even while writers publish new ones
        moment = check_now(now)
        row = state.catalog.row(article_id)
        related = self._related_in(state, article_id, 10)
        taken = np.append(state.catalog.rows(h.article_id for h in related), row)
        ranking = ranking_list(state.popularity, state.index, state.catalog, RankingQuery(
            k=8, now=float(epoch_seconds(moment)), mode="popular", section_code=None,
            exclude_rows=taken, duplicate_threshold=self.duplicate_threshold,
        ))
        taken = np.append(taken, state.catalog.rows(h.article_id for h in ranking))
        recommendation = self._recommend(state, article_id, history, 8, float(epoch_seconds(moment)), taken)
        return Page(related, ranking, recommendation)

    # ------------------------------------------------------------------ storage
    def save(self, path: str | os.PathLike) -> None:
        """Publish the fitted model at ``path`` atomically (see :mod:`recommender.store`)."""
        store.publish(path, **to_artifact(self._fitted(), options.to_json(self.get_params())))

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = False, verify: bool = True) -> Recommender:
        """Load a model saved with :meth:`save`; nothing is unpickled.

        Parameters
        ----------
        path : path-like
        mmap : bool, default=False
            Memory-map the matrices so many worker processes share one copy.
        verify : bool, default=True
            Check every file's checksum and the matrices' structure.

        Raises
        ------
        CorruptArtifactError, IncompatibleArtifactError
        """
        manifest, arrays, documents = store.read(path, mmap=mmap, verify=verify)
        try:
            model = cls(**options.from_json(manifest["config"]))
            options.validate(model.get_params())
            state = from_artifact(manifest, arrays, documents, options.popularity_config(model.get_params()), verify)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            where = store.resolve(path)
            raise CorruptArtifactError(f"{where}: inconsistent model ({type(error).__name__}: {error})") from None
        model._lock = threading.Lock()
        model._state = state
        return model
