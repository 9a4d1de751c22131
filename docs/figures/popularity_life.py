"""Draw docs/figures/popularity_life.png: scores over the life of three stories.

    python docs/figures/popularity_life.py      (needs matplotlib: pip install 'recommender[eval]')
"""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from recommender import Reaction, Recommender  # noqa: E402

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
rng = np.random.default_rng(1)
stories = {
    "breaking (600 reactions, first hours)": (0.0, 600, 3.0),
    "slow burner (300 over three days)": (0.0, 300, 36.0),
    "late story (150, published at 30 h)": (30.0, 150, 4.0),
}
articles, reactions = [], []
for number, (label, (start, count, spread)) in enumerate(stories.items()):
    published = T0 + timedelta(hours=start)
    articles.append({"id": f"s{number}", "title": label, "body": f"story number {number} text {label}",
                     "published_at": published})
    for delay in rng.exponential(spread, count):
        reactions.append(Reaction(f"s{number}", "good", 1, published + timedelta(hours=float(delay))))
hours = np.arange(0, 96, 0.5)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharex=True)
for axis, (title, options, mode) in zip(axes, [
    ("popular, exponential (half-life 6 h)", {}, "popular"),
    ("popular, gravity 1.8 (HN)", {"decay": "gravity"}, "popular"),
    ("trending (1 h vs 24 h rate)", {}, "trending"),
]):
    for number, label in enumerate(stories):
        scores = []
        for h in hours:
            now = T0 + timedelta(hours=float(h))
            rec = Recommender(**options).fit(articles)
            rec.record_reactions([r for r in reactions if r.at <= now], now=now)
            hits = {hit.article_id: hit.score for hit in rec.ranking(k=3, now=now, mode=mode)}
            scores.append(hits.get(f"s{number}", np.nan))
        axis.plot(hours, scores, label=label)
    axis.set_title(title, fontsize=10)
    axis.set_xlabel("hours since the first story")
axes[0].set_ylabel("score")
axes[0].legend(fontsize=8)
fig.tight_layout()
fig.savefig(Path(__file__).with_suffix(".png"), dpi=110)
