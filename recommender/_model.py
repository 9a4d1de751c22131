"""The :class:`Recommender` estimator: a facade over the fitted state and the list builders.

This module holds the write side: options (:mod:`._options`), fitting (:mod:`._fit`), updates
(the transitions of :mod:`._state`) and storage (:mod:`._persist`, :mod:`._store`). The read
side, every list call, is :class:`~recommender._queries.ListQueries`, which it extends.

Thread safety: the fitted state is one immutable :class:`~recommender._state.ModelState`,
replaced as a whole by writers (which serialise on a lock), and every query reads it once,
so concurrent queries always see one consistent state of the model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any

from . import _options as options
from . import _state as transitions
from . import _store as store
from ._aliases import with_aliases
from ._articles import Article, iter_articles, load_articles
from ._checks import check_exclude, check_now
from ._erase import purged, traces
from ._fit import fit_state
from ._options import PopularityOptions, RecommendOptions, RelatedOptions, TextOptions
from ._persist import from_artifact, to_artifact
from ._popularity import PopularityConfig
from ._queries import ListQueries
from ._reaction_policy import ReactionReport
from ._reactions import load_reactions
from ._rules import EditorialRules, changed_rules, rules_from_json
from ._related.time_prior import resolved_scale
from ._state import ReactionPolicy
from ._time_locality import Locality
from ._time import epoch_seconds
from .exceptions import CorruptArtifactError, InvalidOptionError, UnknownArticleError

__all__ = ["Recommender"]



class Recommender(ListQueries):
    """Related, Ranking (and Recommendation) lists for a news site.

    Parameters
    ----------
    title_weight : float, default=2.0
        Weight of a title word relative to a body word.
    stop_words : {"language", "english", None}, default="language"
        ``"language"``: the stop words of each article's language (scikit-learn's list for
        English, the Snowball project's for 15 other languages, none for the rest);
        ``"english"``: scikit-learn's English list for every article; ``None``: none.
    sublinear_tf : bool, default=True
    min_df : int, default=1
    max_df : float, default=0.9
        Drop terms found in more than this share of articles.
    max_features : int or None, default=None
    proper_noun_weight : int, default=2
        How many times a proper noun (a capitalised word not opening a sentence) counts.
    stem : bool, default=True
        Fold inflections with the Snowball stemmer of each article's language
        (``strikes`` -> ``strike``).
    language : str, default="en"
        The language of articles whose ``language`` field is empty, and of
        :meth:`related_to_text` without ``language=``. Codes are ISO 639-1 (``"es"``); tags
        such as ``"en-GB"``, ``"EN"`` or names such as ``"spanish"`` are accepted. The 34
        languages with a Snowball stemmer are supported (``recommender._languages.LANGUAGES``);
        an article naming another one is refused at fit, naming the article.
    multilingual : bool, default=True
        Analyse each article in its own language. ``False``: every article is analysed in
        ``language`` and counts as that language (models saved before languages load so).
    strategy : {"auto", "profiles", "full"}, default="auto"
        How Related lists are searched (:mod:`recommender._related.search`): from the neighbour
        profiles with exact score bounds, or by a product over the whole archive. Every
        strategy gives the same lists; ``"auto"`` takes the fastest exact one.
    neighbours : int, default=50
        Profile length ``m`` of the anchored score (see :mod:`recommender._profiles`): each
        article is also described by its ``m`` most similar articles, which bridges
        vocabulary between stories about the same thing. ``0`` scores Related lists by
        plain TF-IDF cosine and skips the fit-time all-pairs search.
    core_neighbours : int, default=5
        Size of each profile's *core*: its closest neighbours. Two articles that share core
        neighbours are usually reports of the same event (other outlets' takes, follow-ups).
    core_weight : float, default=0.5
        Weight of the core overlap in the Related score, which is
        ``anchored + core_weight * core overlap`` (in ``[0, 1 + core_weight]``; see
        ``docs/quality.md`` for what it buys on real multi-outlet news). ``0`` ranks by the
        anchored score alone.
    n_jobs : int or None, default=None
        Threads for the fit-time neighbour search, and worker processes that tokenise the
        articles (``None`` is 1, ``-1`` every core; the model is the same); inside
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
    cross_language : bool, default=False
        Let Related lists and Recommendation candidates hold articles in another language
        than the article's (they share names, places and numbers). ``False``: only its own.
    time_scale_days : "auto", float or None, default="auto"
        A time-proximity prior on the Related score (:mod:`recommender._related.time_prior`):
        the part the neighbour profiles add (profile overlap and core) is multiplied by
        ``time_floor + (1 - time_floor) * exp(-(dt / scale)^2 / 2)`` of the two articles'
        publication gap ``dt`` in days; the article's own words are never decayed, so a strong
        match months apart still ranks. Reports of one event are days apart, other events of
        the same kind months: on real news it lifts same-event precision (0.57 to 0.75 on
        thousands of local shooting reports, ``docs/quality.md``). On dates that carry no
        signal it would hurt, so ``"auto"`` turns it on (at 2 days) only when the fit finds
        the archive's closest neighbours published close together beyond chance
        (:attr:`time_locality_`; :attr:`time_scale_days_` tells the outcome). A number turns it
        on at that scale, ``None`` off. A text that is not indexed (:meth:`related_to_text`)
        has no date and is not decayed.
    time_floor : float, default=0.5
        The prior's factor for a gap much larger than ``time_scale_days``, in ``[0, 1]``.
    reaction_weights : mapping of str to float or None, default=None
        Weight of each reaction type (e.g. ``{"veryGood": 1, "good": 1, "sad": 0.5}``);
        ``None`` counts every type 1.
    unknown_reactions : {"error", "ignore"}, default="error"
        What to do with a type ``reaction_weights`` does not name.
    decay : {"exponential", "gravity"}, default="exponential"
        Popularity decay (see :mod:`recommender._popularity`).
    half_life_hours : float, default=6.0
    gravity : float, default=1.8
    prior_hours : float, default=1.0
        Bayesian smoothing strength, in hours of exposure at the site's mean rate.
    ranking_max_age : datetime.timedelta, default=7 days
        Ranking lists consider only stories published this long before ``now``.
    blend_weights : mapping or None, default=None
        Weights of the Recommendation signals ``article``, ``history``, ``history_max``,
        ``section``, ``subsection``, ``popularity``, ``freshness`` (see
        :mod:`recommender._recommend`); a signal left out (or ``None``: all) keeps the
        ``blend``'s default (:class:`~recommender._options.BlendWeights`).
    blend : {"reader", "similarity"}, default="reader"
        ``"reader"`` scores candidates on raw similarities to the article and the history
        plus the reader's section profile; ``"similarity"`` is the earlier blend (cosines
        below ``min_similarity`` count 0, no section profile; models saved before the
        option load with it).
    diversity : float, default=0.3
        Maximal-marginal-relevance trade-off in [0, 1): 0 ranks by relevance alone.
    freshness_half_life_hours : float, default=48.0
        Age at which the freshness signal halves.
    history_half_life : float, default=5.0
        Reads back at which a history item weighs half as much as the newest one.
    story_threshold : float, default=0.1
        Cosine from which two articles count as one story when the first four
        Recommendation places are given to different stories.
    section_scale : {"log", "linear"}, default="log"
        How the reader's section share enters the ``"reader"`` blend: on a log scale (a
        section the reader never opens falls far below one read now and then) or as the
        share itself (models saved before the option load with it); see
        :mod:`recommender._reader`.

    Every default lives in its option group (:mod:`recommender._options`).

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
        title_weight: float = TextOptions.title_weight,
        stop_words: str | None = TextOptions.stop_words,
        sublinear_tf: bool = TextOptions.sublinear_tf,
        min_df: int = TextOptions.min_df,
        max_df: float = TextOptions.max_df,
        max_features: int | None = TextOptions.max_features,
        proper_noun_weight: int = TextOptions.proper_noun_weight,
        stem: bool = TextOptions.stem,
        language: str = TextOptions.language,
        multilingual: bool = TextOptions.multilingual,
        neighbours: int = RelatedOptions.neighbours,
        core_neighbours: int = RelatedOptions.core_neighbours,
        core_weight: float = RelatedOptions.core_weight,
        strategy: str = RelatedOptions.strategy,
        n_jobs: int | None = None,
        duplicate_threshold: float = RelatedOptions.duplicate_threshold,
        min_similarity: float = RelatedOptions.min_similarity,
        explain_terms: int = RelatedOptions.explain_terms,
        cross_language: bool = RelatedOptions.cross_language,
        time_scale_days: float | None = RelatedOptions.time_scale_days,
        time_floor: float = RelatedOptions.time_floor,
        reaction_weights: Mapping[str, float] | None = PopularityOptions.reaction_weights,
        unknown_reactions: str = PopularityOptions.unknown_reactions,
        decay: str = PopularityOptions.decay,
        half_life_hours: float = PopularityOptions.half_life_hours,
        gravity: float = PopularityOptions.gravity,
        prior_hours: float = PopularityOptions.prior_hours,
        ranking_max_age: timedelta = PopularityOptions.ranking_max_age,
        blend_weights: Mapping[str, float] | None = RecommendOptions.blend_weights,
        blend: str = RecommendOptions.blend,
        diversity: float = RecommendOptions.diversity,
        freshness_half_life_hours: float = RecommendOptions.freshness_half_life_hours,
        history_half_life: float = RecommendOptions.history_half_life,
        story_threshold: float = RecommendOptions.story_threshold,
        section_scale: str = RecommendOptions.section_scale,
    ) -> None:
        for name, value in locals().items():
            if name != "self":
                setattr(self, name, value)

    # ------------------------------------------------------------------ options
    @classmethod
    def _param_names(cls) -> list[str]:
        return [field.name for group in options.GROUPS for field in fields(group)] + ["n_jobs"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor options, by name (scikit-learn's estimator API; ``deep`` changes nothing)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Recommender:
        """Change options, validated together; a fitted model keeps its fitted state.

        Text and ``neighbours`` options shape the fitted state: they take effect at the next
        :meth:`fit`. Raises :class:`~recommender.InvalidOptionError` for an unknown name or a
        bad value (nothing is changed then).
        """
        unknown = set(params) - set(self._param_names())
        if unknown:
            raise InvalidOptionError(f"unknown option(s) {sorted(unknown)}; options are {sorted(self._param_names())}")
        options.validate({**self.get_params(), **params})
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = options.defaults()
        changed = [f"{name}={value!r}" for name, value in self.get_params().items() if value != defaults[name]]
        return f"Recommender({', '.join(changed)})"

    def _groups(self) -> tuple[TextOptions, RelatedOptions, PopularityOptions, RecommendOptions]:
        return options.split(self.get_params())

    def _popularity_config(self) -> PopularityConfig:
        group = self._groups()[2]
        return PopularityConfig(decay=group.decay, half_life_hours=float(group.half_life_hours),
                                gravity=float(group.gravity), prior_hours=float(group.prior_hours),
                                max_age_hours=group.ranking_max_age.total_seconds() / 3600)

    def _reaction_policy(self) -> ReactionPolicy:
        return ReactionPolicy(self.reaction_weights, self.unknown_reactions)

    # ------------------------------------------------------------------ fitting and updates
    def fit(self, articles: Iterable[Article | dict] | str | os.PathLike, reactions: Any = None, *,
            now: datetime | None = None) -> Recommender:
        """Learn the vocabulary, index every article and record reactions.

        Parameters
        ----------
        articles : iterable of Article or dict, DataFrame, or path
            Validated as :func:`~recommender.load_articles` validates them; ids must be
            unique. They are read once, a chunk at a time, so a file's text is never held
            whole (pass the path rather than a loaded list for the smallest footprint).
        reactions : iterable of Reaction or dict, DataFrame, path, or None
            Validated with :func:`~recommender.load_reactions`, then recorded as by
            :meth:`record_reactions` at ``now``.
        now : datetime or None
            Timezone-aware site time at which ``reactions`` are recorded (later ones are
            refused as in the future); ``None`` is the current time. Pass a fixed time for
            historical or sample data, e.g. :data:`recommender.datasets.SAMPLE_NOW`.

        Returns
        -------
        self
        """
        options.validate(self.get_params())
        moment = epoch_seconds(check_now(now))  # a bad now fails before any work
        text, related, _, _ = self._groups()
        # validated as read: a file's articles are tokenised a chunk at a time, never all held
        state = fit_state(iter_articles(articles), text, related, self._popularity_config(), self.n_jobs)
        report = ReactionReport()
        if reactions is not None:
            state, report = transitions.with_reactions(state, load_reactions(reactions), self._reaction_policy(), moment)
        self._lock = threading.Lock()
        self._state = state
        self._version = None
        self.reaction_report_ = report
        return self

    def add_articles(self, articles: Iterable[Article | dict] | str | os.PathLike) -> Recommender:
        """Index new articles with the fitted vocabulary and IDF; no refit.

        They are searchable as soon as this returns, and reactions waiting for them apply.
        All or nothing: ids already in the model raise
        :class:`~recommender.exceptions.DuplicateArticleError` and nothing is added.

        Returns
        -------
        self
        """
        self._fitted()
        articles = load_articles(articles)
        with self._lock:
            self._state, _ = transitions.with_articles(self._state, articles, self._reaction_policy())
        return self

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
            self._state = transitions.without_articles(self._state, ids)
        return self

    def add_aliases(self, aliases: Mapping[str, str] | Iterable[tuple[str, str]]) -> Recommender:
        """Declare ids under which one story was published twice (two sections, two URLs).

        Parameters
        ----------
        aliases : mapping of str to str, or (alias, canonical) pairs
            Each alias id and the canonical id it stands for; both must be articles of the
            model. Lists then show the canonical id only, a query by the alias answers as by
            the canonical id, and reactions to either add up (see :mod:`recommender._aliases`).

        Returns
        -------
        self

        Raises
        ------
        UnknownArticleError
            An id the model does not hold.
        InvalidInputError
            An id aliased to itself, an alias given two canonical ids, or a chain or cycle
            (an alias whose canonical id is itself an alias); nothing is declared then.

        Examples
        --------
        >>> from recommender import Recommender, load_articles
        >>> from recommender.datasets import sample_articles_path
        >>> rec = Recommender().fit(load_articles(sample_articles_path()))
        >>> rec = rec.add_aliases({"a002": "a001"})
        >>> rec.aliases_
        {'a002': 'a001'}
        >>> "a002" in [hit.article_id for hit in rec.related("a003", k=50)]
        False
        """
        self._fitted()
        with self._lock:
            self._state = with_aliases(self._state, aliases)
        return self

    @property
    def aliases_(self) -> dict[str, str]:
        """The declared aliases: ``{alias: canonical}`` (see :meth:`add_aliases`)."""
        return self._fitted().catalog.aliases

    def purge_articles(self, article_ids: Iterable[str]) -> dict[str, Any]:
        """Remove articles and every trace of them from this model (a legal takedown).

        Unlike :meth:`remove_articles`, which only unpublishes, a purge drops the articles'
        rows from every matrix and array, their text from the catalogue, the terms only they
        held from the vocabulary, their reactions and their aliases (see
        :mod:`recommender._erase`); the other articles' lists are computed as if the purged
        ones had never been indexed. Published versions, the shared update log and
        precomputed lists are purged by ``recommender purge`` (:func:`recommender.purge.purge_model`).

        Parameters
        ----------
        article_ids : collection of str
            Live or unpublished articles, or ids only waiting reactions or aliases name.

        Returns
        -------
        dict
            Counts of what was removed: ``rows``, ``terms``, ``profile_entries``,
            ``pending_reactions``, ``aliases``.

        Raises
        ------
        UnknownArticleError
            An id the model holds no trace of (nothing is purged then).
        """
        ids = check_exclude(article_ids, "article_ids")
        self._fitted()
        with self._lock:
            missing = sorted(set(ids) - traces(self._state, ids))
            if missing:
                raise UnknownArticleError(missing[0], "the model holds no trace of it (purged already?)")
            self._state, counts = purged(self._state, ids)
        return counts.to_dict()

    def record_reactions(self, reactions: Any, *, now: datetime | None = None) -> ReactionReport:
        """Add reactions to the popularity state (incremental; no text model is touched).

        Parameters
        ----------
        reactions : iterable of Reaction or dict, DataFrame, or path
            Events or counts (see :func:`~recommender.load_reactions`).
        now : datetime, optional
            Reactions later than ``now`` (plus 5 minutes of clock skew) are refused.

        Returns
        -------
        ReactionReport
            Counts applied, kept pending (unknown article ids, applied when the article
            is added; at most :data:`~recommender._state.MAX_PENDING_REACTIONS`) and ignored
            (unknown types with ``unknown_reactions="ignore"``).

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
            self._state, report = transitions.with_reactions(self._state, records, self._reaction_policy(), moment)
        return report

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
        options._number("max_added_share", max_added_share, 0, 1e9)
        options._number("min_known_share", min_known_share, 0, 1)
        return transitions.drift_report(self._fitted().growth, max_added_share=max_added_share,
                                        min_known_share=min_known_share)

    # ------------------------------------------------------------------ editorial rules
    @property
    def rules(self) -> EditorialRules:
        """The editorial rules the lists follow: blocks, pins, eligibility rules (see
        ``docs/editorial.md``); saved with the model, shared through the update log by
        :class:`~recommender.ModelHandle`."""
        return self._fitted().rules

    def _change_rules(self, action: str, **arguments: Any) -> Recommender:
        self._fitted()
        with self._lock:
            self._state = transitions.with_rules(self._state, changed_rules(self._state.rules,
                                                                            {"action": action, **arguments}))
        return self

    def block(self, item: str, *, under: str | None = None) -> Recommender:
        """Keep ``item`` out of every list, or out of article ``under``'s lists only.

        Takes effect at once, beats a pin, and holds for ids the model does not hold yet
        (the item may arrive later). Blocking an article under itself raises
        :class:`~recommender.InvalidOptionError`.

        Returns
        -------
        self

        Examples
        --------
        >>> from recommender import Recommender, load_articles
        >>> from recommender.datasets import SAMPLE_NOW, sample_articles_path
        >>> rec = Recommender().fit(load_articles(sample_articles_path()))
        >>> blocked = rec.related("a005", now=SAMPLE_NOW)[0].article_id
        >>> blocked in [hit.article_id for hit in rec.block(blocked).related("a005", now=SAMPLE_NOW)]
        False
        """
        return self._change_rules("block", item=item, under=under)

    def unblock(self, item: str, *, under: str | None = None) -> Recommender:
        """Lift a block set by :meth:`block` (one that does not exist is a no-op); returns self."""
        return self._change_rules("unblock", item=item, under=under)

    def pin(self, item: str, *, under: str, position: int) -> Recommender:
        """Show ``item`` at ``position`` (1 is the top) of article ``under``'s Related list.

        A position past the list's end places the item at the end. A pin beats eligibility
        rules and scores, not a block, nor time (an item published after ``now`` waits).
        Pinning an article in its own list raises :class:`~recommender.InvalidOptionError`.

        Returns
        -------
        self
        """
        return self._change_rules("pin", item=item, under=under, position=position)

    def unpin(self, item: str, *, under: str) -> Recommender:
        """Remove a pin set by :meth:`pin` (one that does not exist is a no-op); returns self."""
        return self._change_rules("unpin", item=item, under=under)

    def set_eligibility(self, rules: Iterable[Any]) -> Recommender:
        """Replace the eligibility rules: requirements items must meet to appear in a list.

        Parameters
        ----------
        rules : iterable of EligibilityRule or mapping
            Each ``{"list": ..., "field": ..., "op": ..., "value": ..., "readers": ...}``
            (see :class:`~recommender.EligibilityRule`); an unknown field raises
            :class:`~recommender.InvalidOptionError` naming it, and nothing changes.

        Returns
        -------
        self
        """
        return self._change_rules("eligibility", rules=[rule if isinstance(rule, Mapping) else rule.to_json()
                                                        for rule in rules])

    def set_rules(self, rules: EditorialRules | Mapping[str, Any]) -> Recommender:
        """Replace every editorial rule, e.g. with another model's :attr:`rules` after a refit
        (``new.set_rules(old.rules)``) or their JSON form (:meth:`EditorialRules.to_json`)."""
        self._fitted()
        rules = rules_from_json(rules.to_json() if isinstance(rules, EditorialRules) else rules)
        with self._lock:
            self._state = transitions.with_rules(self._state, rules)
        return self

    vectorizer_ = property(lambda self: self._fitted().vectorizer, doc="The fitted TextVectorizer.")
    index_ = property(lambda self: self._fitted().index, doc="The CosineIndex of article vectors.")
    profiles_ = property(lambda self: self._fitted().profiles,
                         doc="The NeighbourProfiles behind the anchored score (None with neighbours=0).")
    catalog_ = property(lambda self: self._fitted().catalog, doc="The Catalog of ids and metadata.")
    popularity_ = property(lambda self: self._fitted().popularity, doc="The PopularityState.")

    # ------------------------------------------------------------------ storage
    def save(self, path: str | os.PathLike, *, keep: int = 2, retain_seconds: float = store.RETAIN_SECONDS) -> None:
        """Publish the fitted model at ``path`` atomically (see :mod:`recommender._store`).

        Parameters
        ----------
        path : path-like
            The model directory; the new version becomes its ``current`` one.
        keep : int, default=2
            Older versions kept besides the new and the current one.
        retain_seconds : float, default=900
            Versions published less than this long ago are kept whatever ``keep`` says, so
            serving processes that have not switched yet keep their files.
        """
        state = self._fitted()
        artifact = to_artifact(state, options.to_json(self.get_params()))
        artifact["metadata"] = {**artifact["metadata"], "log_position": state.log_position}
        version = store.publish(store.check_path(path), **artifact, keep=keep, retain_seconds=retain_seconds)
        self._version = version.name

    @property
    def time_scale_days_(self) -> float | None:
        """The time-proximity prior's scale in days that the Related score uses now, ``None``
        when it is off: ``time_scale_days`` itself, or with ``"auto"`` what the fit's
        :attr:`time_locality_` decided (see :mod:`recommender._related.time_prior`)."""
        return resolved_scale(self.time_scale_days, self._fitted())

    @property
    def time_locality_(self) -> Locality | None:
        """How time-local the fitted archive's neighbours are (:class:`recommender._time_locality.Locality`:
        ``linked``, ``random``, ``excess``, ``z``, ``links``, ``window_days``), measured at fit
        and saved with the model; ``None`` without neighbour profiles."""
        return self._fitted().time_locality

    @property
    def log_position_(self) -> int:
        """The last entry of the shared update log this model absorbed (0: none; see
        :class:`~recommender.ModelHandle`); saved with the model."""
        return self._fitted().log_position

    def _adopt(self, state: transitions.ModelState) -> None:
        """Serve ``state`` from now on (a state built by replaying the update log)."""
        with self._lock:
            self._state = state

    @property
    def version(self) -> str | None:
        """The name of the version directory this model was loaded from or last saved to
        (it starts with its publishing time, e.g. ``20261129T151700123456Z-3f2a9c``);
        ``None`` for a model never saved."""
        self._fitted()
        return getattr(self, "_version", None)

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
        CorruptArtifactError
            A file missing, altered, or holding values no saved model holds (see
            ``docs/reliability.md``: types, shapes, index ranges and counts are checked even
            with ``verify=False``).
        IncompatibleArtifactError
            A format version this release does not read.
        InvalidOptionError
            ``path`` is not a path (``None``, bytes, a NUL character).
        """
        manifest, arrays, documents = store.read(store.check_path(path), mmap=mmap, verify=verify)
        try:
            model = cls(**options.from_json(manifest["config"]))
            options.validate(model.get_params())
            state = from_artifact(manifest, arrays, documents, model._popularity_config(), verify)
            state = replace(state, log_position=int(manifest.get("log_position", 0)))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            where = store.resolve(path)
            raise CorruptArtifactError(f"{where}: inconsistent model ({type(error).__name__}: {error})") from None
        model._lock = threading.Lock()
        model._state = state
        model._version = manifest["version"]
        return model
