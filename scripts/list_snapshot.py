"""Write (or compare) every list the library gives on three corpora, to check a refactor keeps behaviour.

Usage::

    python scripts/list_snapshot.py write before.json      # on the old code
    python scripts/list_snapshot.py compare before.json    # on the new code: same ids, same order, scores within 1e-6
    python scripts/list_snapshot.py write pages.json --pages   # pages and Recommendation lists only

Corpora: the bundled sample (Related, Ranking, Recommendation and pages at the sample's fixed
``now``), the synthetic 10k archive (Related batch lists for every article), and Lee (Related
lists of the 50 documents). Only the public API is used, so the script runs on any version.

``--pages`` snapshots pages and Recommendation lists instead: on the sample (with every blend
and without neighbour profiles) and on the synthetic 10k archive with its synthetic reactions
(histories of 0 to 8 stories, exclusions, readers without an article, other list sizes).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

NOW = datetime(2026, 11, 28, 23, 0, tzinfo=timezone.utc)


def _hits(hits) -> list:
    return [[h.article_id, float(h.score)] for h in hits]


def _cards(hits) -> list:
    """Everything a hit shows besides its id and score."""
    return [[h.explanation, list(h.terms), h.tier, h.title, h.url, h.section, h.published_at] for h in hits]


def _page(page) -> list:
    return [_hits(page.related), _hits(page.ranking), _hits(page.recommendation)]


def snapshot() -> dict:
    from recommender import Recommender, load_articles, load_reactions

    try:
        from recommender.datasets import sample_articles_path, sample_reactions_path
    except ImportError:
        from recommender._datasets import sample_articles_path, sample_reactions_path
    try:
        from recommender.synthetic import generate_articles
    except ImportError:
        from recommender.evaluation.synthetic import generate_articles
    try:
        from recommender.lee import lee_articles
    except ImportError:
        from recommender.evaluation.lee import lee_articles

    out: dict = {}
    articles = load_articles(sample_articles_path())
    reactions = [r for r in load_reactions(sample_reactions_path()) if r.at is None or r.at <= NOW]
    rec = Recommender().fit(articles, reactions=reactions)
    ids = rec.article_ids
    out["sample/related"] = {a: _hits(rec.related(a, k=10)) for a in ids}
    out["sample/related_section"] = {a: _hits(rec.related(a, k=5, same_section=True)) for a in ids[:20]}
    out["sample/ranking"] = _hits(rec.ranking(k=8, now=NOW))
    out["sample/trending"] = _hits(rec.ranking(k=8, now=NOW, mode="trending"))
    out["sample/recommend"] = {a: _hits(rec.recommend(a, history=ids[:3], k=8, now=NOW)) for a in ids[:30]}
    out["sample/page"] = {a: _page(rec.page(a, history=ids[5:7], now=NOW)) for a in ids[:20]}
    batch_ids, batch_scores = rec.related_batch(k=10)
    out["sample/batch"] = [[str(i) for i in row] for row in batch_ids.tolist()]

    synthetic = list(generate_articles(10_000, seed=7))
    rec = Recommender().fit(synthetic)
    batch_ids, batch_scores = rec.related_batch(k=10)
    out["synthetic/batch_ids"] = [[str(i) for i in row] for row in batch_ids.tolist()]
    out["synthetic/batch_scores"] = [[float(s) for s in row] for row in batch_scores.tolist()]
    out["synthetic/related"] = {a: _hits(rec.related(a, k=10)) for a in rec.article_ids[:200]}

    lee = lee_articles()
    rec = Recommender().fit(lee)
    out["lee/related"] = {a: _hits(rec.related(a, k=10)) for a in rec.article_ids}
    return out


def _reader_calls(rec, ids: list, now, prefix: str, n: int) -> dict:
    """Pages and Recommendation lists of ``n`` articles with histories of several lengths."""
    import random

    rng = random.Random(len(ids))
    out: dict = {}
    for position, article_id in enumerate(ids[:n]):
        history = [rng.choice(ids) for _ in range((0, 1, 3, 8)[position % 4])]
        key = f"{article_id}|{','.join(history)}"
        page = rec.page(article_id, history=history, now=now)
        out[f"{prefix}/page/{key}"] = _page(page)
        out[f"{prefix}/page_cards/{key}"] = [_cards(hits) for hits in (page.related, page.ranking, page.recommendation)]
        out[f"{prefix}/recommend/{key}"] = _hits(rec.recommend(article_id, history=history, now=now))
        if position % 5 == 0:
            excluded = [rng.choice(ids) for _ in range(3)]
            out[f"{prefix}/page_sized/{key}"] = _page(rec.page(
                article_id, history=history, now=now, related_k=5, ranking_k=3, recommendation_k=12,
                exclude=excluded))
            out[f"{prefix}/recommend_k20/{key}"] = _hits(rec.recommend(
                article_id, history=history, now=now, k=20, exclude=excluded))
            out[f"{prefix}/reader/{key}"] = _hits(rec.recommend(None, history=history or ids[:2], now=now))
    return out


def pages_snapshot() -> dict:
    from recommender import Recommender, load_articles, load_reactions
    from recommender.datasets import sample_articles_path, sample_reactions_path
    from recommender.evaluation.synthetic import generate_articles, generate_reactions

    out: dict = {}
    articles = load_articles(sample_articles_path())
    reactions = [r for r in load_reactions(sample_reactions_path()) if r.at is None or r.at <= NOW]
    for name, options in (("sample", {}), ("sample_similarity", {"blend": "similarity"}),
                          ("sample_no_profiles", {"neighbours": 0})):
        rec = Recommender(**options).fit(articles, reactions=reactions)
        out.update(_reader_calls(rec, rec.article_ids, NOW, name, 60))
    synthetic = list(generate_articles(10_000, seed=7))
    reactions = load_reactions(list(generate_reactions(synthetic, seed=7)))
    now = max(reaction.at for reaction in reactions)
    rec = Recommender().fit(synthetic, reactions=reactions, now=now)
    out.update(_reader_calls(rec, rec.article_ids, now, "synthetic", 400))
    return out


def _compare(before, after, where: str, problems: list) -> None:
    if isinstance(before, dict):
        if set(before) != set(after):
            problems.append(f"{where}: keys differ")
        for key in before:
            if key in after:
                _compare(before[key], after[key], f"{where}/{key}", problems)
    elif isinstance(before, list) and before and isinstance(before[0], list) and len(before[0]) == 2 \
            and isinstance(before[0][0], str) and isinstance(before[0][1], float):
        if [b[0] for b in before] != [a[0] for a in after]:
            problems.append(f"{where}: ids differ {[b[0] for b in before]} != {[a[0] for a in after]}")
        elif any(abs(b[1] - a[1]) > 1e-6 for b, a in zip(before, after)):
            problems.append(f"{where}: scores differ by more than 1e-6")
    elif isinstance(before, list):
        if len(before) != len(after):
            problems.append(f"{where}: lengths differ")
        for i, (b, a) in enumerate(zip(before, after)):
            _compare(b, a, f"{where}[{i}]", problems)
    elif isinstance(before, float):
        if not (before != before and after != after) and abs(before - after) > 1e-6:
            problems.append(f"{where}: {before} != {after}")
    elif before != after:
        problems.append(f"{where}: {before!r} != {after!r}")


def main(argv: list[str]) -> int:
    pages = "--pages" in argv
    argv = [arg for arg in argv if arg != "--pages"]
    if len(argv) != 2 or argv[0] not in ("write", "compare"):
        print(__doc__, file=sys.stderr)
        return 2
    current = json.loads(json.dumps(pages_snapshot() if pages else snapshot()))
    if argv[0] == "write":
        with open(argv[1], "w") as handle:
            json.dump(current, handle)
        return 0
    with open(argv[1]) as handle:
        before = json.load(handle)
    problems: list[str] = []
    _compare(before, current, "", problems)
    for line in problems[:20]:
        print(line)
    print(f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
