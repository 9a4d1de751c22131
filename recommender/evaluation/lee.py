"""The Lee news-similarity benchmark: does our similarity agree with people?

Lee, Pincombe and Welsh (2005, *An empirical evaluation of models of text document
similarity*) had students rate how similar pairs of 50 short Australian news stories are, on a
scale from 1 (highly unrelated) to 5 (highly related); each pair got about ten ratings. A model
is scored by the correlation between its similarity and the mean human rating over the
``50 * 49 / 2 = 1,225`` distinct pairs. Reference points from the literature: bag-of-words
cosine 0.1-0.5 (depending on weighting and background corpus), LSA 0.60, ESA 0.72, and
0.6 for one human against the others.

The data ships inside the gensim wheel (``gensim/test/test_data``): ``lee.cor`` (the 50
documents, one a line, Latin-1), ``lee_background.cor`` (300 more stories from the same source,
one a line) and ``similarities0-1.txt`` (the mean ratings divided by 5, as the upper triangle of
a tab-separated 50x50 matrix). Install it with ``pip install 'recommender[eval]'``.

How the library is scored
-------------------------
:func:`evaluate_lee` fits a :class:`~recommender.Recommender` on the background stories and
the 50 documents (ids ``bg-000``.. and ``lee-00``.., empty titles), takes the score Related
lists rank by (:meth:`~recommender.Recommender.similarity`: the anchored score of
:mod:`recommender._profiles`) between the 50 documents and correlates it with the human means.
No rating is used in fitting::

    >>> from recommender.evaluation.lee import evaluate_lee
    >>> result = evaluate_lee()                    # any Recommender option as a keyword
    >>> result["n_pairs"], round(result["pearson"], 2)
    (1225, 0.71)
    >>> round(evaluate_lee(neighbours=0)["pearson"], 2)   # TF-IDF cosine alone
    0.61

:func:`lee_correlation` scores anything else: a 50x50 similarity matrix, a fitted model
holding the ``lee-##`` ids, or a function of two texts.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import pearson, spearman
from ..exceptions import InvalidInputError, InvalidOptionError
from .._model import Recommender

__all__ = ["LeeData", "evaluate_lee", "lee_articles", "lee_correlation", "lee_data_dir", "load_lee"]

N_DOCUMENTS = 50
N_BACKGROUND = 300
PUBLISHED_AT = datetime(2005, 1, 1, tzinfo=timezone.utc)
_FILES = ("lee.cor", "lee_background.cor", "similarities0-1.txt")
_INSTALL = "install the benchmark data with: pip install 'recommender[eval]' (it ships inside gensim)"


@dataclass(frozen=True)
class LeeData:
    """The Lee benchmark.

    Parameters
    ----------
    documents : tuple of str, length 50
        The rated documents.
    background : tuple of str, length 300
        Stories from the same source, to learn term statistics on.
    similarity : ndarray of shape (50, 50)
        Mean human rating / 5, symmetric, ones on the diagonal (0.2 = highly unrelated).
    """

    documents: tuple[str, ...]
    background: tuple[str, ...]
    similarity: np.ndarray

    @property
    def human_pairs(self) -> np.ndarray:
        """The 1,225 human similarities of the upper triangle, row by row."""
        return self.similarity[np.triu_indices(len(self.documents), 1)]


def lee_data_dir() -> Path:
    """Directory holding the Lee files inside the installed gensim package.

    gensim is located, not imported.

    Raises
    ------
    InvalidInputError
        When gensim is not installed or its wheel lacks the files.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError(f"the Lee benchmark needs gensim, which is not installed; {_INSTALL}")
    directory = Path(list(spec.submodule_search_locations)[0]) / "test" / "test_data"
    missing = [name for name in _FILES if not (directory / name).is_file()]
    if missing:
        raise InvalidInputError(f"gensim at {directory.parent.parent} lacks {', '.join(missing)}; {_INSTALL}")
    return directory


def _lines(path: Path, expected: int) -> tuple[str, ...]:
    lines = tuple(line.strip() for line in path.read_text(encoding="latin-1").splitlines())
    if len(lines) != expected or not all(lines):
        raise InvalidInputError(f"expected {expected} non-empty lines, found {len(lines)}", source=str(path))
    return lines


def load_lee(directory: str | Path | None = None) -> LeeData:
    """Read the Lee benchmark.

    Parameters
    ----------
    directory : path-like, optional
        Where ``lee.cor``, ``lee_background.cor`` and ``similarities0-1.txt`` are;
        by default the installed gensim's copy (:func:`lee_data_dir`).

    Returns
    -------
    LeeData

    Examples
    --------
    >>> data = load_lee()
    >>> len(data.documents), len(data.background), data.similarity.shape, data.human_pairs.shape
    (50, 300, (50, 50), (1225,))
    """
    directory = lee_data_dir() if directory is None else Path(directory)
    documents = _lines(directory / "lee.cor", N_DOCUMENTS)
    background = _lines(directory / "lee_background.cor", N_BACKGROUND)
    path = directory / "similarities0-1.txt"
    try:
        upper = np.loadtxt(path, dtype=float)
    except (OSError, ValueError) as error:
        raise InvalidInputError(f"cannot read the similarity matrix: {error}", source=str(path)) from None
    if upper.shape != (N_DOCUMENTS, N_DOCUMENTS) or np.any(np.tril(upper, -1)) or not np.allclose(np.diag(upper), 1):
        raise InvalidInputError("expected an upper-triangular 50x50 matrix with ones on the diagonal", source=str(path))
    similarity = np.triu(upper) + np.triu(upper, 1).T
    similarity.setflags(write=False)
    return LeeData(documents, background, similarity)


def lee_articles(data: LeeData | None = None) -> list[dict]:
    """The standard protocol's articles: the 300 background stories, then the 50 rated ones.

    Ids ``bg-000``..``bg-299`` and ``lee-00``..``lee-49``, empty titles, one fixed publication time.
    """
    data = load_lee() if data is None else data
    def article(article_id: str, body: str) -> dict:
        return {"id": article_id, "title": "", "body": body, "published_at": PUBLISHED_AT}
    return [article(f"bg-{i:03d}", body) for i, body in enumerate(data.background)] + [
        article(f"lee-{i:02d}", body) for i, body in enumerate(data.documents)
    ]


def _model_similarity(model: Recommender) -> np.ndarray:
    return model.similarity([f"lee-{i:02d}" for i in range(N_DOCUMENTS)]).astype(np.float64)


def lee_correlation(
    similarity: np.ndarray | Recommender | Callable[[str, str], float], data: LeeData | None = None
) -> dict[str, Any]:
    """Correlation of a similarity with the human means over the 1,225 document pairs.

    Parameters
    ----------
    similarity : array of shape (50, 50), fitted Recommender, or callable
        A matrix (only its upper triangle is read); a model holding the ids ``lee-00``..``lee-49``
        (:meth:`Recommender.similarity`, the score Related lists rank by); or ``similarity(text_a, text_b) -> float``.
    data : LeeData, optional
        By default :func:`load_lee`.

    Returns
    -------
    dict
        ``{"pearson": float, "spearman": float, "n_pairs": 1225}``.

    Examples
    --------
    >>> import numpy as np
    >>> data = load_lee()
    >>> lee_correlation(data.similarity, data)["pearson"]   # the humans against themselves
    1.0
    """
    data = load_lee() if data is None else data
    if isinstance(similarity, Recommender):
        matrix = _model_similarity(similarity)
    elif callable(similarity):
        matrix = np.zeros((N_DOCUMENTS, N_DOCUMENTS))
        for i, j in zip(*np.triu_indices(N_DOCUMENTS, 1)):
            matrix[i, j] = similarity(data.documents[i], data.documents[j])
    else:
        matrix = similarity.toarray() if hasattr(similarity, "toarray") else np.asarray(similarity, dtype=float)
    if matrix.shape != (N_DOCUMENTS, N_DOCUMENTS):
        raise InvalidOptionError(f"a Lee similarity matrix must be 50x50, got shape {matrix.shape}")
    model_pairs = matrix[np.triu_indices(N_DOCUMENTS, 1)]
    human = data.human_pairs
    return {"pearson": pearson(model_pairs, human), "spearman": spearman(model_pairs, human), "n_pairs": len(human)}


def evaluate_lee(**recommender_options: Any) -> dict[str, Any]:
    """Score ``Recommender(**recommender_options)`` on the Lee benchmark (standard protocol).

    Returns
    -------
    dict
        ``{"pearson": float, "spearman": float, "n_pairs": 1225}``.
    """
    data = load_lee()
    model = Recommender(**recommender_options).fit(lee_articles(data))
    return lee_correlation(model, data)
