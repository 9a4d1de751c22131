"""TF-IDF vectors of articles, title weighted above body, built on scikit-learn.

How it works
------------
Title and body are tokenised separately with the same analyser (boilerplate stripped,
lower-cased, stop words removed). With ``stem=True`` (the default) each token is
then replaced by its Snowball stem, so ``strike``, ``strikes`` and ``striking`` are one
term ``strike``, ``company`` and ``companies`` one term ``compani``; stop words go before
stemming. Each distinct word is stemmed once and remembered
(:class:`~recommender._text.StemCache`), so stemming costs a dict lookup per token.

Languages: each article is analysed in its own language (``languages``, ISO 639-1 codes;
the ``language`` option for articles without one): that language's stop words
(:func:`~recommender._languages.stop_words_of`) and Snowball stemmer. All languages share
one vocabulary and one IDF: a term is just a string, so names, places and numbers written
alike in two languages are one term (what lets a ``cross_language`` search find the same
story in another language), while the stems of words rarely coincide across languages.
A chunk of articles in one language (an English-only archive) takes the same path as
before languages existed.

A term's frequency in an article is ``count in body + title_weight * count in title``;
with ``sublinear_tf`` it becomes ``1 + ln(tf)`` (for ``tf >= 1``). It is multiplied by the
smoothed inverse document frequency ``idf = ln((1 + n) / (1 + df)) + 1`` (scikit-learn's
formula) and each row is scaled to unit length, so the dot product of two rows is their
cosine similarity.

The fitted state is the term list ``terms_`` (stems, or words with ``stem=False``),
``display_terms_`` and ``idf_``. Stems are not always words, so ``display_terms_`` holds,
for each term, the word that most often produced it in the fit corpus (``compani`` shows
as ``company``): the form to show people, as in explanations. :meth:`TextVectorizer.from_state`
rebuilds a working vectorizer from them, which is how models load without pickle.
New articles are vectorised with the fitted vocabulary and IDF (terms never seen at fit
time are ignored), so adding articles never changes the vectors already indexed.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache, cached_property
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._languages import CAPITALISED_NOUNS, LANGUAGES, normalize_language, stop_words_of
from ._options import TextOptions
from .exceptions import InvalidInputError, InvalidOptionError, NotFittedError
from ._text import StemCache, analyze, english_stop_words

__all__ = ["TextVectorizer"]

FIT_CHUNK = 5_000
"""Articles tokenised at a time while fitting (a fit reads its articles in chunks of this many)."""


class TextVectorizer:
    """TF-IDF for (title, body) pairs.

    Parameters
    ----------
    title_weight : float, default=2.0
        How many body occurrences one title occurrence is worth. ``0`` ignores titles.
    stop_words : {"language", "english", None}, default="language"
        ``"language"``: the stop words of each article's language (scikit-learn's list for
        English); ``"english"``: scikit-learn's English list for every article.
    sublinear_tf : bool, default=True
        Replace ``tf`` with ``1 + ln(tf)``.
    min_df : int, default=1
        Keep terms that occur in at least this many articles.
    max_df : float, default=0.9
        Drop terms that occur in more than this share of articles (never fewer than 2 articles).
    max_features : int or None, default=None
        Keep only the most frequent terms.
    proper_noun_weight : int, default=2
        How many times a proper noun (a capitalised word that does not open a sentence:
        names, places) counts. 2 — like a title word — helped on every corpus measured
        (``docs/relevance_research.md``); 1 turns it off.
    stem : bool, default=True
        Replace each token (after stop-word removal) with its Snowball (Porter2) English
        stem, so inflections share a term: ``strike``, ``strikes``, ``striking`` ->
        ``strike``. Needs PyStemmer (a dependency) or snowballstemmer, else fitting raises
        :class:`~recommender.exceptions.StemmerUnavailableError`. ``False`` keeps surface words.
    language : str, default="en"
        Language of articles that name none (a code or tag such as ``"es"``, ``"de-CH"``).
    multilingual : bool, default=True
        Analyse each article in its own language; ``False`` analyses every article in
        ``language`` whatever it names (models saved before languages load with ``False``).
    dtype : numpy dtype, default=numpy.float32

    Attributes
    ----------
    terms_ : ndarray of str, shape (n_terms,)
        The vocabulary: stems with ``stem=True``, words otherwise.
    display_terms_ : ndarray of str, shape (n_terms,)
        A readable word for each term: the lower-case word that most often produced the
        stem in the fit corpus (ties: alphabetically first), e.g. ``company`` for
        ``compani``. The same as ``terms_`` with ``stem=False``.
    idf_ : ndarray of float, shape (n_terms,)
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
        dtype: type = np.float32,
    ) -> None:
        self.title_weight = title_weight
        self.stop_words = stop_words
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.proper_noun_weight = proper_noun_weight
        self.stem = stem
        self.language = language
        self.multilingual = multilingual
        self.dtype = dtype

    def get_params(self) -> dict:
        """Options as a JSON-friendly dict (``dtype`` as its name)."""
        return {
            "title_weight": self.title_weight,
            "stop_words": self.stop_words,
            "sublinear_tf": self.sublinear_tf,
            "min_df": self.min_df,
            "max_df": self.max_df,
            "max_features": self.max_features,
            "proper_noun_weight": self.proper_noun_weight,
            "stem": self.stem,
            "language": self.language,
            "multilingual": self.multilingual,
            "dtype": np.dtype(self.dtype).name,
        }

    @property
    def default_language(self) -> str:
        """The ISO 639-1 code of ``language``: the analysis language of articles naming none."""
        return normalize_language(self.language)

    def _validate_options(self) -> None:
        TextOptions(**{name: value for name, value in self.get_params().items() if name != "dtype"}).validate()
        if np.dtype(self.dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise InvalidOptionError(f"dtype must be float32 or float64, got {self.dtype!r}")

    def _analysed(self, texts: Sequence[str], boilerplate: bool, language: str) -> list[list[str]]:
        """Token lists of texts in one language: titles (``boilerplate=False``) or bodies."""
        if self.stop_words == "language":
            stop_words = stop_words_of(language)
        else:
            stop_words = english_stop_words() if self.stop_words == "english" else None
        names = 1 if language in CAPITALISED_NOUNS else self.proper_noun_weight
        return [analyze(text, boilerplate=boilerplate, stop_words=stop_words, proper_noun_weight=names,
                        language=language) for text in texts]

    def _tokens(self, texts: Sequence[str], *, boilerplate: bool,
                languages: Sequence[str] | None = None) -> list[list[str]]:
        """Token lists of titles (``boilerplate=False``) or bodies (datelines etc. stripped),
        each analysed in its language."""
        languages = self._languages(languages, len(texts))
        if languages is None:  # the common case, one language: no grouping
            return self._analysed(texts, boilerplate, self.default_language)
        return _per_language(texts, languages, self.default_language,
                             lambda part, language: self._analysed(part, boilerplate, language))

    def _languages(self, languages: Sequence[str] | None, n: int) -> list[str] | None:
        """Each text's analysis language, or ``None`` when all are the default one."""
        if languages is None or not self.multilingual:
            return None
        if len(languages) != n:
            raise InvalidOptionError(f"got {len(languages)} languages for {n} texts")
        unknown = set(languages) - LANGUAGES.keys()
        if unknown:
            raise InvalidInputError(f"unsupported language codes {sorted(map(str, unknown))}; supported: "
                                    f"{', '.join(sorted(LANGUAGES))}")
        return list(languages)

    def _stemmed(self, token_lists: list[list[str]], languages: list[str] | None) -> list[list[str]]:
        """Stems of token lists, each in its language."""
        return _per_language(token_lists, languages, self.default_language,
                             lambda part, language: list(map(self._stem_cache(language), part)))

    def _stem_cache(self, language: str | None = None) -> StemCache:
        """The memoised stemmer of a language (default: ``language``), made on first use
        (raises StemmerUnavailableError without one)."""
        language = self.default_language if language is None else language
        caches = getattr(self, "_stems", None)
        if caches is None:
            caches = self._stems = {}
        cache = caches.get(language)
        if cache is None:
            cache = caches[language] = StemCache(language=language)
        return cache

    def fit(self, titles: Sequence[str], bodies: Sequence[str],
            languages: Sequence[str] | None = None) -> TextVectorizer:
        """Learn the vocabulary and IDF from articles.

        Parameters
        ----------
        titles, bodies : sequence of str, same length n_articles
        languages : sequence of str or None
            Each article's analysis language (ISO 639-1 codes of
            :data:`~recommender._languages.LANGUAGES`); ``None``: all ``language``.

        Returns
        -------
        self
        """
        self._fit_counts(self._counts(self._chunks(titles, bodies, languages)))
        return self

    def _tokenize(self, titles: Sequence[str], bodies: Sequence[str],
                  languages: Sequence[str] | None = None) -> tuple[list[list[str]], list[list[str]]]:
        """(Stemmed) token lists of new articles, for the fitted vocabulary."""
        if not hasattr(self, "idf_"):
            raise NotFittedError("this TextVectorizer is not fitted yet; call fit first")
        if len(titles) != len(bodies):
            raise InvalidOptionError(f"got {len(titles)} titles for {len(bodies)} bodies")
        languages = self._languages(languages, len(bodies))
        title_tokens = self._tokens(titles, boilerplate=False, languages=languages)
        body_tokens = self._tokens(bodies, boilerplate=True, languages=languages)
        if not self.stem:
            return title_tokens, body_tokens
        return self._stemmed(title_tokens, languages), self._stemmed(body_tokens, languages)

    def _chunks(self, titles: Sequence[str], bodies: Sequence[str],
                languages: Sequence[str] | None) -> Iterator[tuple[Sequence[str], Sequence[str], list[str] | None]]:
        """Whole sequences of texts as the chunks :meth:`_counts` reads (lengths checked first)."""
        if len(titles) != len(bodies):
            raise InvalidOptionError(f"got {len(titles)} titles for {len(bodies)} bodies")
        languages = self._languages(languages, len(bodies))
        for start in range(0, len(bodies), FIT_CHUNK):
            yield (titles[start:start + FIT_CHUNK], bodies[start:start + FIT_CHUNK],
                   None if languages is None else languages[start:start + FIT_CHUNK])

    def _counts(self, chunks: Iterable[tuple[Sequence[str], Sequence[str], Sequence[str] | None]],
                n_jobs: int | None = None) -> _Counts:
        """Title and body term counts of every article, from chunks of ``(titles, bodies, languages)``.

        Only a few chunks' texts and token lists need be alive at a time (the chunks may come
        from a file as it is read), and the counts stay in chunks (never stacked into one
        matrix), so memory grows with the counts' non-zeros, not with the corpus's text. With
        ``n_jobs`` above 1 the chunks are tokenised in that many worker processes (joblib),
        each over its own vocabulary, renumbered here in chunk order: the counts, columns and
        surface words are those of one process.
        """
        self._validate_options()
        if self.stem:
            self._stem_cache()  # a missing stemmer fails before any work
        column_of = _numbering()  # a new token gets the next column
        words = _SurfaceWords()
        counted = []
        for tokens, title, body, chunk_words in self._chunk_counts_all(chunks, n_jobs):
            columns = np.fromiter(map(column_of.__getitem__, tokens), dtype=np.int32, count=len(tokens))
            counted.append((_renumbered(title, columns, len(column_of)), _renumbered(body, columns, len(column_of))))
            for language, (chunk_words_of, uses, terms) in (chunk_words or {}).items():
                words.add(language, chunk_words_of, uses, columns[terms])
        if not sum(body.shape[0] for _, body in counted):
            raise InvalidInputError("cannot fit on zero articles")
        tokens = list(column_of)
        return _Counts(counted, tokens, words.entries(tokens) if self.stem else None)

    def _chunk_counts_all(self, chunks: Iterable, n_jobs: int | None) -> Iterator[_ChunkCounts]:
        """:meth:`_chunk_counts` of every chunk, in order: here, or on ``n_jobs`` joblib workers."""
        if (n_jobs or 1) == 1:
            return (self._chunk_counts(*chunk) for chunk in chunks)
        return _counted_in_workers(self.get_params(), chunks, n_jobs)

    def _chunk_counts(self, titles: Sequence[str], bodies: Sequence[str],
                      languages: Sequence[str] | None) -> _ChunkCounts:
        """One chunk's title and body counts over its own vocabulary (terms in order of first
        appearance, titles first) and its surface words by language (``None`` without stemming).

        The words are counted first, each language's apart, and each distinct word is stemmed
        once; then the counts of the words of one term are summed. A chunk has about a million
        tokens but some tens of thousands of distinct words.
        """
        if len(titles) != len(bodies):
            raise InvalidOptionError(f"got {len(titles)} titles for {len(bodies)} bodies")
        languages = self._languages(languages, len(bodies))
        title_tokens = self._tokens(titles, boilerplate=False, languages=languages)
        body_tokens = self._tokens(bodies, boilerplate=True, languages=languages)
        numbering = itertools.count()  # word columns, shared by the languages in order of first appearance
        word_columns: dict[str, defaultdict[str, int]] = {}
        for language in dict.fromkeys(languages or [self.default_language]):
            word_columns[language] = defaultdict(numbering.__next__)
        lookups = (itertools.repeat(word_columns[self.default_language].__getitem__) if languages is None
                   else [word_columns[language].__getitem__ for language in languages])
        title, body = _token_counts(title_tokens, lookups), _token_counts(body_tokens, lookups)
        n_words = sum(map(len, word_columns.values()))
        terms = np.empty(n_words, dtype=object)
        for language, columns in word_columns.items():
            words = list(columns)
            terms[list(columns.values())] = self._stem_cache(language)(words) if self.stem else words
        column_of = _numbering()
        term_columns = np.fromiter(map(column_of.__getitem__, terms), dtype=np.int32, count=n_words)
        surface = None
        if self.stem:
            uses = (np.bincount(title.indices, title.data, n_words)
                    + np.bincount(body.indices, body.data, n_words)).astype(np.int64)
            surface = {}
            for language, columns in word_columns.items():
                at = np.fromiter(columns.values(), dtype=np.int64, count=len(columns))
                surface[language] = (list(columns), uses[at], term_columns[at])
        return _ChunkCounts(list(column_of), _merged(title, term_columns, len(column_of)),
                            _merged(body, term_columns, len(column_of)), surface)

    def _fit_counts(self, counts: _Counts) -> np.ndarray:
        """Vocabulary and IDF from :meth:`_counts`, pruned as scikit-learn's ``CountVectorizer``
        prunes (``min_df``, ``max_df``, ``max_features``; terms in alphabetical order).
        Returns the kept token columns, in term order."""
        tokens, words = counts.tokens, counts.words
        n = sum(body.shape[0] for _, body in counts.chunks)
        max_doc_count = max(2, int(self.max_df * n)) if self.max_df < 1 else n
        if not tokens:
            raise InvalidInputError("no usable terms (empty vocabulary); the articles may contain only stop words")
        order = np.argsort(np.asarray(tokens, dtype=object), kind="stable")  # alphabetical, like CountVectorizer
        document_frequency = np.zeros(len(tokens), np.int64)
        for title, body in counts.chunks:  # a term in title and body counts once
            width = max(title.shape[1], body.shape[1])
            presence = _widened(title, width) + _widened(body, width)
            document_frequency[:width] += np.bincount(presence.indices, minlength=width)
        document_frequency = document_frequency[order]
        keep = (document_frequency <= max_doc_count) & (document_frequency >= self.min_df)
        if self.max_features is not None and keep.sum() > self.max_features:
            most = (-document_frequency[keep]).argsort()[:self.max_features]  # CountVectorizer's own selection
            limited = np.zeros(len(keep), dtype=bool)
            limited[np.flatnonzero(keep)[most]] = True
            keep = limited
        if not keep.any():
            raise InvalidInputError("no usable terms (after pruning, no terms remain); "
                                    "min_df/max_df prune everything")
        columns = order[keep]
        self.terms_ = np.asarray([tokens[column] for column in columns], dtype=object)
        self.idf_ = (np.log((1 + n) / (1 + document_frequency[keep])) + 1).astype(self.dtype)
        self._vocabulary = {term: column for column, term in enumerate(self.terms_)}
        self.display_terms_ = self.terms_ if words is None else _display_terms(self._vocabulary, words)
        return columns

    @classmethod
    def from_state(cls, params: dict, terms: Sequence[str], idf: np.ndarray,
                   display_terms: Sequence[str] | None = None) -> TextVectorizer:
        """Rebuild a fitted vectorizer from :meth:`get_params`, ``terms_``, ``idf_`` and
        ``display_terms_`` (``None``: the terms themselves)."""
        params = dict(params)
        # models saved before these options existed: the behaviour of that time
        for name, value in TextOptions.LEGACY.items():  # saved before the option existed
            params.setdefault(name, value)
        params["dtype"] = np.dtype(params.get("dtype", "float32")).type
        vectorizer = cls(**params)
        vectorizer._validate_options()
        if len(terms) != len(idf):
            raise InvalidInputError(f"{len(terms)} terms but {len(idf)} IDF weights")
        if display_terms is not None and len(display_terms) != len(terms):
            raise InvalidInputError(f"{len(terms)} terms but {len(display_terms)} display terms")
        if vectorizer.stem:
            vectorizer._stem_cache()  # a model that cannot stem fails at load, not at its first new article
        vectorizer.terms_ = np.asarray(terms, dtype=object)
        vectorizer.display_terms_ = (vectorizer.terms_ if display_terms is None
                                     else np.asarray(display_terms, dtype=object))
        vectorizer.idf_ = np.asarray(idf, dtype=vectorizer.dtype)
        return vectorizer  # the term -> column dict is built on first use (_vocabulary)

    @cached_property
    def _vocabulary(self) -> dict[str, int]:
        """Column of each term: built when text is first vectorised, so a process that only
        serves lists of indexed articles never holds it (~100 MB at a million terms)."""
        return {term: column for column, term in enumerate(self.terms_)}

    def transform(self, titles: Sequence[str], bodies: Sequence[str],
                  languages: Sequence[str] | None = None) -> sp.csr_matrix:
        """Vectorise articles (in ``languages``, as in :meth:`fit`) with the fitted vocabulary and IDF.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_articles, n_terms)
            Rows of unit length (all-zero for an article with no known term), sorted indices.
        """
        title_tokens, body_tokens = self._tokenize(titles, bodies, languages)
        return self._vectors(title_tokens, body_tokens)

    def transform_with_coverage(self, titles: Sequence[str], bodies: Sequence[str],
                                languages: Sequence[str] | None = None) -> tuple[sp.csr_matrix, int, int]:
        """:meth:`transform`, plus how many of the texts' tokens the vocabulary knows, of how many.

        A falling share means new words (names, events) that the fitted vocabulary cannot
        represent: a sign that a refit is due (see :meth:`Recommender.drift`). With ``stem=True``
        a token is known when its stem is a term.
        """
        title_tokens, body_tokens = self._tokenize(titles, bodies, languages)
        total = sum(map(len, title_tokens)) + sum(map(len, body_tokens))
        known = sum(token in self._vocabulary for tokens in (*title_tokens, *body_tokens) for token in tokens)
        return self._vectors(title_tokens, body_tokens), known, total

    def fit_transform(self, titles: Sequence[str], bodies: Sequence[str],
                      languages: Sequence[str] | None = None) -> sp.csr_matrix:
        """:meth:`fit`, then :meth:`transform`, tokenising each text once."""
        return self.fit_transform_chunks(self._chunks(titles, bodies, languages))

    def fit_transform_chunks(self, chunks: Iterable[tuple[Sequence[str], Sequence[str], Sequence[str] | None]],
                             n_jobs: int | None = None) -> sp.csr_matrix:
        """:meth:`fit_transform` of articles given as chunks of ``(titles, bodies, languages)``
        (``languages`` ``None`` for the default language), read once: a generator reading a
        file never holds more than a few chunks' text. ``n_jobs``: worker processes that
        tokenise the chunks (joblib; ``None`` or 1: this process), with the same result.

        The rows are weighted a chunk of counts at a time, straight into the arrays of the
        result, and each chunk of counts is freed once weighted: the float64 temporaries
        stay the size of one chunk, and the counts and the result are never both whole.
        """
        counts = self._counts(chunks, n_jobs)
        columns = self._fit_counts(counts)
        chunks, width = counts.chunks, len(counts.tokens)
        del counts
        n = sum(body.shape[0] for _, body in chunks)
        room = sum(title.nnz + body.nnz for title, body in chunks)  # at least the result's non-zeros
        data = np.empty(room, dtype=self.dtype)  # pages are only touched as they are filled
        index_type = np.int32 if max(room, len(columns)) < 2**31 else np.int64  # as scipy would choose
        indices, indptr = np.empty(room, dtype=index_type), np.zeros(n + 1, dtype=index_type)
        row = filled = 0
        while chunks:
            title, body = chunks.pop(0)  # freed once weighted
            part = self._weighted(_columns(_widened(title, width), columns), _columns(_widened(body, width), columns))
            del title, body
            data[filled:filled + part.nnz] = part.data
            indices[filled:filled + part.nnz] = part.indices
            indptr[row + 1:row + 1 + part.shape[0]] = filled + part.indptr[1:]
            row, filled = row + part.shape[0], filled + part.nnz
        vectors = sp.csr_matrix((data[:filled], indices[:filled], indptr), shape=(n, len(columns)), copy=False)
        vectors.has_sorted_indices = True
        return vectors

    def _vectors(self, title_tokens: list[list[str]], body_tokens: list[list[str]]) -> sp.csr_matrix:
        # imported on use, as in text.english_stop_words
        from sklearn.feature_extraction.text import CountVectorizer

        counter = CountVectorizer(analyzer=_same_tokens, vocabulary=self._vocabulary, dtype=np.float64)
        return self._weighted(counter.transform(title_tokens), counter.transform(body_tokens))

    def _weighted(self, title_counts: sp.csr_matrix, body_counts: sp.csr_matrix) -> sp.csr_matrix:
        """Unit-length TF-IDF rows from term counts over the fitted vocabulary."""
        from sklearn.preprocessing import normalize

        tf = sp.csr_matrix(body_counts, dtype=np.float64)
        if self.title_weight:
            tf = tf + self.title_weight * sp.csr_matrix(title_counts, dtype=np.float64)
        tf = sp.csr_matrix(tf, dtype=np.float64)
        if self.sublinear_tf:  # 1 + ln(tf) from tf = 1 up; fractional title-only counts stay linear
            at_least_one = tf.data >= 1.0
            tf.data[at_least_one] = 1.0 + np.log(tf.data[at_least_one])
        tf.data *= self.idf_.astype(np.float64)[tf.indices]  # in place: one float64 copy fewer
        vectors = normalize(tf, norm="l2", copy=False).astype(self.dtype)
        vectors.sort_indices()
        return sp.csr_matrix(vectors)


class _ChunkCounts(NamedTuple):
    """One chunk's counts over its own vocabulary (:meth:`TextVectorizer._chunk_counts`)."""

    tokens: list[str]
    title: sp.csr_matrix
    body: sp.csr_matrix
    words: dict[str, tuple[list[str], np.ndarray, np.ndarray]] | None
    """Each language's surface words, their uses (int64) and their columns in ``tokens``."""


@lru_cache(maxsize=4)
def _worker_vectorizer(options: tuple) -> TextVectorizer:
    """A worker process's vectorizer for these options, kept so its stem caches serve every chunk."""
    return TextVectorizer(**dict(options))


def _counted_in_workers(options: dict, chunks: Iterable, n_jobs: int) -> Iterator[_ChunkCounts]:
    """:meth:`TextVectorizer._chunk_counts` of every chunk on ``n_jobs`` joblib workers, in order.

    The chunks are read in joblib's feeding thread. A chunk that fails to read (a bad record)
    ends the feed instead of raising there; the chunks already sent finish, then its error is
    raised here. Raised in the feeding thread, it would abort the workers mid-task, and loky's
    manager thread could then fail on its own and print a second, unrelated traceback.
    """
    import joblib  # here: serving processes never fit

    failed: list[Exception] = []

    def fed() -> Iterator:
        try:
            yield from chunks
        except Exception as error:  # kept, and raised below in the caller's thread
            failed.append(error)

    yield from joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
        joblib.delayed(_chunk_counts_with)(options, *chunk) for chunk in fed())
    if failed:
        raise failed[0]


def _chunk_counts_with(options: dict, titles: Sequence[str], bodies: Sequence[str],
                       languages: Sequence[str] | None) -> _ChunkCounts:
    """:meth:`TextVectorizer._chunk_counts` in a worker process (a joblib task)."""
    return _worker_vectorizer(tuple(sorted(options.items())))._chunk_counts(titles, bodies, languages)


def _renumbered(counts: sp.csr_matrix, columns: np.ndarray, width: int) -> sp.csr_matrix:
    """``counts`` over a chunk's own columns, moved to ``columns`` of a ``width``-column vocabulary
    (no longer sorted within rows: :func:`_columns` sorts what is kept)."""
    return sp.csr_matrix((counts.data, columns[counts.indices], counts.indptr), shape=(counts.shape[0], max(width, 1)))


class _SurfaceWords:
    """Surface words of a fit corpus by language: each word's uses and term, gathered from the
    chunks' counts (:meth:`TextVectorizer._chunk_counts`) without a dict update per word."""

    def __init__(self) -> None:
        self._ids: dict[str, defaultdict[str, int]] = {}  # word -> id, by language, in order of first use
        self._uses: dict[str, np.ndarray] = {}  # uses by id (int64, with room to grow)
        self._terms: dict[str, list[np.ndarray]] = {}  # the term column of each new word, in id order

    def add(self, language: str, words: list[str], uses: np.ndarray, terms: np.ndarray) -> None:
        """One chunk's distinct ``words`` of ``language``, their ``uses`` and term columns."""
        ids_of = self._ids.setdefault(language, _numbering())
        known = len(ids_of)
        ids = np.fromiter(map(ids_of.__getitem__, words), dtype=np.int64, count=len(words))
        totals = self._uses.get(language, np.zeros(0, dtype=np.int64))
        if len(ids_of) > len(totals):  # doubling: amortised constant time per word
            totals = np.concatenate([totals, np.zeros(max(len(ids_of), 2 * len(totals)) - len(totals), np.int64)])
        totals[ids] += uses  # a chunk's words are distinct: no index repeats
        self._uses[language] = totals
        self._terms.setdefault(language, []).append(terms[ids >= known])  # new ids come in the words' order

    def entries(self, tokens: list[str]) -> list[tuple[str, int, str]]:
        """``(word, uses, term)`` of every word (``tokens``: the term of each column)."""
        entries: list[tuple[str, int, str]] = []
        for language, ids_of in self._ids.items():
            uses = self._uses[language][:len(ids_of)].tolist()
            entries.extend(zip(ids_of, uses, [tokens[column] for column in np.concatenate(self._terms[language])]))
        return entries


class _Counts(NamedTuple):
    """Term counts of a fit corpus, as :meth:`TextVectorizer._counts` returns them."""

    chunks: list[tuple[sp.csr_matrix, sp.csr_matrix]]
    """(title counts, body counts) of each chunk of articles: int32 CSR over the tokens seen
    up to that chunk (a later chunk may be wider)."""
    tokens: list[str]
    """Every token, in order of first appearance (the columns of the counts)."""
    words: list[tuple[str, int, str]] | None
    """Surface-word counts ``(word, count, stem)`` for ``display_terms_``; ``None`` without stemming."""


def _same_tokens(tokens: list[str]) -> list[str]:
    return tokens


def _per_language(items: Sequence, languages: list[str] | None, default: str, work) -> list:
    """``work(part, language)`` on the items of each language, results back in item order.

    ``languages=None`` (all ``default``) or a single language: one call on all items."""
    if languages is None or not languages:
        return work(items, default)
    first = languages[0]
    if all(language == first for language in languages):
        return work(items, first)
    positions: dict[str, list[int]] = {}
    for position, language in enumerate(languages):
        positions.setdefault(language, []).append(position)
    out: list = [None] * len(items)
    for language, where in positions.items():
        for position, result in zip(where, work([items[p] for p in where], language)):
            out[position] = result
    return out


def _numbering() -> defaultdict[str, int]:
    """A dict that numbers its keys in order of first lookup: a new key gets the next number."""
    numbers: defaultdict[str, int] = defaultdict()
    numbers.default_factory = numbers.__len__
    return numbers


def _token_counts(token_lists: list[list[str]], lookups: Iterable[Callable[[str], int]]) -> sp.csr_matrix:
    """Count matrix (int32 CSR, summed duplicates) of token lists, each list's tokens numbered by
    its own lookup (``lookups``: one per list, or an endless repeat of one)."""
    indices: list[int] = []
    indptr = [0]
    for tokens, lookup in zip(token_lists, lookups):
        indices.extend(map(lookup, tokens))
        indptr.append(len(indices))
    columns = np.asarray(indices, dtype=np.int32)
    counts = sp.csr_matrix((np.ones(len(columns), dtype=np.int32), columns, np.asarray(indptr, dtype=np.int64)),
                           shape=(len(token_lists), int(columns.max(initial=0)) + 1))
    counts.sum_duplicates()
    return counts


def _merged(counts: sp.csr_matrix, columns: np.ndarray, width: int) -> sp.csr_matrix:
    """``counts`` with column ``j`` moved to ``columns[j]`` of ``width`` columns, the counts of
    columns moved together summed (sorted indices)."""
    merged = _renumbered(counts, columns, width)
    merged.sum_duplicates()
    return merged


def _columns(counts: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """``counts[:, columns]`` with sorted indices."""
    selected = counts[:, columns]
    selected.sort_indices()
    return selected


def _widened(counts: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """``counts`` with ``width`` columns (a chunk counted before later chunks grew the vocabulary)."""
    return sp.csr_matrix((counts.data, counts.indices, counts.indptr), shape=(counts.shape[0], max(width, 1)))


def _display_terms(vocabulary: dict[str, int], words: list[tuple[str, int, str]]) -> np.ndarray:
    """For each term, the most frequent word whose stem it is (ties: alphabetically first)."""
    display: list[str] = [""] * len(vocabulary)
    best = [0] * len(vocabulary)
    for word, count, stem in words:
        column = vocabulary.get(stem)
        if column is not None and (count > best[column] or count == best[column] and word < display[column]):
            best[column], display[column] = count, word
    return np.asarray(display, dtype=object)
