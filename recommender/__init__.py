"""recommender: Related, Ranking and Recommendation lists for news sites.

See ``README.md`` for a tour; the public names are listed in ``__all__``.
"""

from ._articles import Article, ArticleLimits, load_articles
from .exceptions import (
    ArtifactError,
    CorruptArtifactError,
    DuplicateArticleError,
    EmbargoedArticleError,
    IncompatibleArtifactError,
    InvalidInputError,
    InvalidOptionError,
    NotFittedError,
    RecommenderError,
    StemmerUnavailableError,
    UnknownArticleError,
)
from ._reaction_policy import ReactionReport
from ._rules import EditorialRules, EligibilityRule
from ._hits import Hit, Page
from ._options import PageSizes
from ._model import Recommender
from ._handle import ModelHandle
from ._reactions import Reaction, load_reactions

__version__ = "0.1.0"

__all__ = [
    "Article",
    "ArticleLimits",
    "ArtifactError",
    "CorruptArtifactError",
    "DuplicateArticleError",
    "EditorialRules",
    "EligibilityRule",
    "EmbargoedArticleError",
    "Hit",
    "IncompatibleArtifactError",
    "InvalidInputError",
    "InvalidOptionError",
    "ModelHandle",
    "NotFittedError",
    "Page",
    "PageSizes",
    "Reaction",
    "ReactionReport",
    "Recommender",
    "RecommenderError",
    "StemmerUnavailableError",
    "UnknownArticleError",
    "load_articles",
    "load_reactions",
]
