"""recommender: Related, Ranking and Recommendation lists for news sites.

See ``README.md`` for a tour; the public names are listed in ``__all__``.
"""

from .articles import Article, ArticleLimits, load_articles
from .exceptions import (
    ArtifactError,
    CorruptArtifactError,
    DuplicateArticleError,
    IncompatibleArtifactError,
    InvalidInputError,
    InvalidOptionError,
    NotFittedError,
    RecommenderError,
    StemmerUnavailableError,
    UnknownArticleError,
)
from .ingest import ReactionReport
from .lists import Hit, Page
from .model import Recommender
from .reactions import Reaction, load_reactions

__version__ = "0.1.0"

__all__ = [
    "Article",
    "ArticleLimits",
    "ArtifactError",
    "CorruptArtifactError",
    "DuplicateArticleError",
    "Hit",
    "IncompatibleArtifactError",
    "InvalidInputError",
    "InvalidOptionError",
    "NotFittedError",
    "Page",
    "Reaction",
    "ReactionReport",
    "Recommender",
    "RecommenderError",
    "StemmerUnavailableError",
    "UnknownArticleError",
    "load_articles",
    "load_reactions",
]
