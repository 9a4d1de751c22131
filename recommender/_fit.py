"""Fitting: validated articles in, a :class:`~recommender._state.ModelState` out.

The one-way pipeline of a fit: article text becomes TF-IDF rows (:mod:`._vectorize`), the rows
an exact cosine index (:mod:`._index`), the index every article's neighbour profile
(:mod:`._profiles`: an all-pairs search, the long step, shown by a progress bar on a terminal
and spread over threads or a joblib backend such as a Dask cluster).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterable, Iterator
from itertools import islice

from tqdm.auto import tqdm

from ._articles import Article
from ._catalog import Catalog
from ._index import CosineIndex
from ._languages import article_languages
from ._options import RelatedOptions, TextOptions
from ._popularity import PopularityConfig, PopularityState
from ._profile_search import neighbour_profiles
from ._profiles import NeighbourProfiles
from ._state import ModelState
from ._time_locality import LOCALITY_NEIGHBOURS, time_locality
from ._related.time_prior import AUTO_SCALE_DAYS
from ._vectorize import FIT_CHUNK, TextVectorizer

__all__ = ["PROGRESS_MIN_ARTICLES", "fit_state"]

PROGRESS_MIN_ARTICLES = 20_000
"""Archives from this size show a progress bar for the neighbour search (on a terminal)."""


def fit_state(articles: Iterable[Article], text: TextOptions, related: RelatedOptions, popularity: PopularityConfig,
              n_jobs: int | None) -> ModelState:
    """The state of a model fitted on ``articles`` (validated, unique ids, at least one).

    The articles are read once, :data:`~._vectorize.FIT_CHUNK` at a time: each chunk's text is
    tokenised (on ``n_jobs`` worker processes) and its metadata kept for the catalogue, then
    the chunk is dropped, so articles read from a file as they come
    (:func:`~._articles.iter_articles`) never have their text held all at once, and none of
    it is held through the neighbour search.
    """
    vectorizer = TextVectorizer(**vars(text))
    records: list[dict] = []

    def chunks() -> Iterator[tuple[list[str], list[str], list[str]]]:
        iterator = iter(articles)
        while chunk := list(islice(iterator, FIT_CHUNK)):
            languages = article_languages([a.id for a in chunk], [a.language for a in chunk],
                                          default=vectorizer.default_language, multilingual=vectorizer.multilingual)
            records.extend(a.metadata() | {"language": language} for a, language in zip(chunk, languages))
            yield [a.title for a in chunk], [a.body for a in chunk], languages

    vectors = vectorizer.fit_transform_chunks(chunks(), n_jobs=n_jobs)
    catalog = Catalog(records)
    records.clear()  # the catalogue holds them compactly
    release_freed_memory()  # the tokens' and counts' memory, before the index and the search need more
    index = CosineIndex(vectors)
    profiles = _neighbour_profiles(index, related, n_jobs) if related.neighbours else None
    locality = None if profiles is None else time_locality(*profiles.closest_links(LOCALITY_NEIGHBOURS),
                                                           catalog.published, AUTO_SCALE_DAYS)
    return ModelState(vectorizer, index, catalog, PopularityState(popularity, index.n_rows), profiles,
                      time_locality=locality)


def release_freed_memory() -> None:
    """Return the memory the C allocator keeps after a step frees it to the operating system
    (glibc's ``malloc_trim``; nothing elsewhere).

    The TF-IDF step frees millions of small objects (token strings, count chunks), and glibc
    keeps their pages for reuse, so a process's resident memory would stay at the step's high
    mark through the neighbour search: measured at 300k articles, 0.65 GB of 2.2 GB.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, for one)
        return
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)


def _neighbour_profiles(index: CosineIndex, related: RelatedOptions, n_jobs: int | None) -> NeighbourProfiles:
    """Every article's ``neighbours`` most similar articles.

    By default the search runs here, on ``n_jobs`` threads. Inside a joblib context with
    another backend (``joblib.parallel_config(backend="dask")`` with a Dask client: a
    cluster) its row blocks run as joblib tasks instead, on ``n_jobs`` workers.
    """
    import joblib  # here: serving processes never search

    threads = (os.cpu_count() or 1) if n_jobs == -1 else (n_jobs or 1)
    backend, _ = joblib.parallel.get_active_backend()
    local = isinstance(backend, joblib.parallel.BACKENDS[joblib.parallel.DEFAULT_BACKEND])

    def as_joblib_tasks(function, arguments):
        tasks = (joblib.delayed(function)(*args) for args in arguments)
        return joblib.Parallel(n_jobs=n_jobs, return_as="generator")(tasks)

    run_blocks = None if local else as_joblib_tasks
    threads = threads if local else 1
    n = index.n_rows
    with tqdm(total=n, desc="neighbour profiles", unit="article",
              disable=None if n >= PROGRESS_MIN_ARTICLES else True) as bar:
        return neighbour_profiles(index.vectors, index.postings, related.neighbours, n_threads=threads,
                                  progress=bar.update, run_blocks=run_blocks, core=related.core_neighbours,
                                  core_weight=related.core_weight)
