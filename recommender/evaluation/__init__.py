"""Offline evaluation: metrics, labelled protocols, the Lee and MIND benchmarks, synthetic corpora.

Nothing here is imported by the serving code (``recommender`` itself); notebooks, benchmarks
and ``recommender evaluate`` use it.

* :mod:`~recommender.evaluation.metrics`: ranking metrics (precision, nDCG, AUC...) and list
  properties (coverage, diversity, near-duplicate rate).
* :mod:`~recommender.evaluation.protocols`: whole-model protocols on labelled articles and
  reaction logs.
* :mod:`~recommender.evaluation.lee`: agreement with human similarity judgments (Lee corpus).
* :mod:`~recommender.evaluation.mind`: Recommendation scored on MIND impression logs.
* :mod:`~recommender.evaluation.synthetic`: corpora with known story clusters.
"""
