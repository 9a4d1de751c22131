"""Evaluation protocols: labels (Related), MIND (impressions), popularity (Ranking), recommendations."""

from __future__ import annotations

import collections
import doctest
import json
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from recommender import InvalidInputError, InvalidOptionError, Recommender, load_reactions
from recommender.evaluation import protocols
from recommender.cli import main
from recommender.datasets import sample_articles_path, sample_reactions_path, sample_stories
from recommender.evaluation.baselines import section_share_scorer
from recommender.evaluation.mind import blend_scorer, read_mind_behaviors, read_mind_news
from recommender.evaluation.protocols import (daily_splits, evaluate_labels, evaluate_mind, evaluate_popularity,
                                   evaluate_recommendations, other_story_reader, story_labels)
from recommender.evaluation.synthetic import generate_articles

MIND = Path(__file__).parent / "data" / "mind"
UTC = timezone.utc


def test_module_examples():
    assert doctest.testmod(protocols).failed == 0


# ---------------------------------------------------------------- labels
def test_labels_on_the_sample_corpus_match_the_documented_figures():
    result = evaluate_labels(sample_articles_path(), story_labels(sample_stories()), k=5)
    assert (result["n_queries"], result["n_skipped"]) == (62, 17)  # 14 stand-alone + 3 wire copies
    assert 0.85 < result["precision"] <= result["precision_ceiling"] == pytest.approx(57 / 62)
    assert result["mrr"] == 1.0 and result["ndcg"] > 0.95
    assert result["precision_by_k"][-1] == result["precision"] and result["precision_by_k"][0] == 1.0


def test_labels_skip_unlabelled_ids_and_labels_nobody_else_has(tiny_articles):
    labels = {"port-1": "strike", "port-2": "strike", "port-3": "strike", "cup-1": "cup", "cup-2": "cup",
              "soup": "food", "port-2-copy": None, "not-in-corpus": "strike"}
    result = evaluate_labels(tiny_articles, labels, k=2)
    assert (result["n_queries"], result["n_skipped"]) == (5, 2)
    # port-1 lists the unlabelled copy of port-2 in its place, first: a miss; port-3 lists port-2
    # itself (it shares port-3's closest neighbours) and port-1; cup-* have one mate.
    assert result["precision"] == pytest.approx((0.5 + 1 + 1 + 0.5 + 0.5) / 5)
    assert result["recall"] == pytest.approx((0.5 + 1 + 1 + 1 + 1) / 5)
    assert result["precision_ceiling"] == pytest.approx((1 + 1 + 1 + 0.5 + 0.5) / 5)
    assert result["mrr"] == pytest.approx((0.5 + 1 + 1 + 1 + 1) / 5)


def test_labels_on_synthetic_stories_beat_chance_by_far():
    articles = list(generate_articles(300, seed=1))
    result = evaluate_labels(articles, {a["id"]: a["story"] for a in articles}, k=5)
    assert result["n_queries"] == sum(a["story"] is not None for a in articles)
    sizes = collections.Counter(a["story"] for a in articles if a["story"] is not None)
    chance = sum(n * (n - 1) for n in sizes.values()) / result["n_queries"] / (len(articles) - 1)
    assert result["precision"] > 0.8 * result["precision_ceiling"] and result["precision"] > 20 * chance


# ---------------------------------------------------------------- MIND
def by_number(history, candidates):
    """A scorer we control: N8 scores 8, N1 scores 1."""
    return [int(news_id[1:]) for news_id in candidates]


def test_mind_metrics_average_over_impressions_as_mind_does():
    result = evaluate_mind(MIND / "news.tsv", MIND / "behaviors.tsv", score_fn=by_number)
    # Per impression, candidates ranked by number (hand-computed; see tests/data/mind/behaviors.tsv):
    # 1: N5 N4 [N3]          -> AUC 0, MRR 1/3, nDCG 1/log2(4)
    # 2: [N6] N1             -> AUC 1, MRR 1,   nDCG 1
    # 3: [N8] N7 N4 [N2]     -> AUC 2/4, MRR (1 + 1/4)/2, nDCG (1 + 1/log2(5)) / (1 + 1/log2(3))
    # 4: N8 .. N3 [N2]       -> AUC 0, MRR 1/7, nDCG@5 0, nDCG@10 1/log2(8)
    # 5: N3 [N2] N1          -> AUC 1/2, MRR 1/2, nDCG 1/log2(3)
    third = (1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert result["auc"] == pytest.approx((0 + 1 + 0.5 + 0 + 0.5) / 5)
    assert result["mrr"] == pytest.approx((1 / 3 + 1 + 0.625 + 1 / 7 + 0.5) / 5)
    assert result["ndcg@5"] == pytest.approx((0.5 + 1 + third + 0 + 1 / math.log2(3)) / 5)
    assert result["ndcg@10"] == pytest.approx((0.5 + 1 + third + 1 / 3 + 1 / math.log2(3)) / 5)
    assert (result["n_impressions"], result["n_news"]) == (5, 8)


def test_mind_with_the_recommendation_blend_runs_end_to_end():
    result = evaluate_mind(MIND / "news.tsv", MIND / "behaviors.tsv")
    for name in ("auc", "mrr", "ndcg@5", "ndcg@10"):
        assert 0.0 <= result[name] <= 1.0
    news = read_mind_news(MIND / "news.tsv")
    assert news[5]["body"] == news[5]["title"] == "Autumn pumpkin soup"  # no abstract: the title
    score = blend_scorer(Recommender().fit(news))
    sports, soup, storm = score(["N1", "N2"], ["N7", "N6", "N8"])
    assert sports > soup == storm  # a reader of two cup stories: the captain's contract first
    assert len(score(["unknown", "N5"], ["N8"])) == 1  # unknown history ids are ignored


def test_mind_errors_name_the_line(tmp_path):
    behaviors = tmp_path / "behaviors.tsv"
    behaviors.write_text("1\tU1\t11/15/2019 8:55:22 AM\tN1\tN2 N3\n")  # test-set style: no labels
    with pytest.raises(InvalidInputError, match=r"behaviors.tsv:1.*no labels"):
        read_mind_behaviors(behaviors)
    behaviors.write_text("1\tU1\t11/15/2019 8:55:22 AM\tN1\tN2-1 N99-0\n")
    with pytest.raises(InvalidInputError, match=r"behaviors.tsv:1.*'N99'"):
        evaluate_mind(MIND / "news.tsv", behaviors)
    with pytest.raises(InvalidOptionError, match="shape"):
        evaluate_mind(MIND / "news.tsv", MIND / "behaviors.tsv", score_fn=lambda history, candidates: [1.0])


def _replay_log(tmp_path):
    """Six news, seven impressions; N6's only clicks come after the 11:00 impressions."""
    news = tmp_path / "news.tsv"
    news.write_text("".join(f"N{i}\t{cat}\t{sub}\t{title}\t\n" for i, cat, sub, title in [
        (1, "sports", "soccer", "Rovers reach the cup final"), (2, "sports", "soccer", "City sign a striker"),
        (3, "finance", "markets", "Central bank raises rates"), (4, "news", "newsus", "Storm floods the coast"),
        (5, "lifestyle", "recipes", "Autumn pumpkin soup"), (6, "sports", "tennis", "Veteran wins in Melbourne")]))
    behaviors = tmp_path / "behaviors.tsv"
    rows = [("9:00 AM", "N1", "N4-1"), ("10:00 AM", "N1", "N3-0 N4-1 N5-0"), ("11:00 AM", "N3", "N4-0 N5-1"),
            ("11:00 AM", "N3", "N4-0 N6-1"), ("12:00 PM", "", "N6-1"), ("1:00 PM", "", "N6-1"), ("2:00 PM", "", "N6-1")]
    behaviors.write_text("".join(f"{i}\tU{i}\t11/15/2019 {time.replace(' ', ':00 ')}\t{history}\t{impression}\n"
                                 for i, (time, history, impression) in enumerate(rows, start=1)))
    return news, behaviors


def test_mind_replays_the_log_in_time_order_without_future_clicks(tmp_path):
    news, behaviors = _replay_log(tmp_path)
    result = evaluate_mind(news, behaviors, score_fn=by_number, bootstrap=100)
    popularity = result["baselines"]["popularity"]
    # Popularity as of each impression (clicks strictly before it): N4 has 1 click at 10:00 and
    # 2 at 11:00; N5's click at 11:00 is not seen by the other 11:00 impression, and N6's three
    # clicks come later, so at 11:00 N4 outranks both clicked candidates:
    # 1: [N4] only clicks     -> AUC -, MRR 1, nDCG 1       2: [N4] first -> AUC 1, MRR 1, nDCG 1
    # 3: N4 [N5]              -> AUC 0, MRR 1/2, nDCG 1/log2(3)
    # 4: N4 [N6]              -> AUC 0, MRR 1/2, nDCG 1/log2(3)     5-7: only clicks -> MRR 1, nDCG 1
    assert popularity["auc"] == pytest.approx(1 / 3)
    assert popularity["mrr"] == pytest.approx(6 / 7)
    assert popularity["ndcg@5"] == popularity["ndcg@10"] == pytest.approx((5 + 2 / math.log2(3)) / 7)
    assert result["n_times"] == 6 and result["n_impressions"] == 7
    # the scorer by number: 2: N5 N4 N3 -> AUC 1/2, MRR 1/2; 3: [N5] N4 -> 1, 1; 4: [N6] N4 -> 1, 1
    assert result["auc"] == pytest.approx((0.5 + 1 + 1) / 3) and result["mrr"] == pytest.approx((4 + 0.5 + 1 + 1) / 7)
    assert set(result["baselines"]) == {"random", "popularity", "tfidf", "section share"}
    assert result["bootstrap"]["baseline"] == max(result["baselines"], key=lambda b: result["baselines"][b]["auc"])
    assert result["bootstrap"]["low"] <= result["bootstrap"]["auc_difference"] <= result["bootstrap"]["high"]


def test_mind_section_share_baseline_by_hand(tmp_path):
    news, behaviors = _replay_log(tmp_path)
    score = section_share_scorer(read_mind_news(news))
    # archive: sports 3/6, finance, news, lifestyle 1/6 each; a reader of N1 and N3:
    assert score(["N1", "N3"], ["N6", "N3", "N4"]) == pytest.approx([(1 + 3 / 6) / 3, (1 + 1 / 6) / 3, (0 + 1 / 6) / 3])
    assert score([], ["N6", "N5"]) == pytest.approx([3 / 6, 1 / 6])


# ---------------------------------------------------------------- popularity
def _three_stories():
    published = "2026-10-01T08:00:00+00:00"
    return [{"id": name, "title": f"Story {name}", "body": f"{name} " + " ".join(f"w{name}{i}" for i in range(20)),
             "published_at": published} for name in ("A", "B", "C")]


def _events(article_id, n, at):
    return [{"article_id": article_id, "reaction": "good", "at": at.isoformat()} for _ in range(n)]


def test_popularity_correlates_scores_with_the_next_day_only():
    split = datetime(2026, 10, 2, 12, tzinfo=UTC)
    before, during, later = split - timedelta(hours=3), split + timedelta(hours=5), split + timedelta(hours=30)
    reactions = (_events("A", 6, before) + _events("B", 3, before) + _events("C", 1, before)
                 + _events("A", 9, during) + _events("B", 4, during) + _events("C", 1, during)
                 + _events("C", 50, later))  # after the horizon: must not count
    result = evaluate_popularity(_three_stories(), reactions, split=split)
    assert result["n_splits"] == 1 and result["n_articles"] == 3
    for name in ("popular", "count_so_far"):
        assert result[name]["spearman"] == pytest.approx(1.0) and result[name]["kendall"] == pytest.approx(1.0)
        assert result[name]["ndcg@8"] == pytest.approx(1.0)
    assert result["splits"][0]["split"] == split.isoformat()


def test_popularity_on_the_sample_beats_the_raw_count():
    splits = daily_splits(sample_reactions_path())
    assert len(splits) == 50 and splits[0] == datetime(2026, 10, 9, 12, tzinfo=UTC)
    result = evaluate_popularity(sample_articles_path(), sample_reactions_path(), split=splits[::5])
    assert result["n_splits"] == 10
    assert result["popular"]["spearman"] > result["count_so_far"]["spearman"] + 0.1
    assert result["popular"]["ndcg@8"] > 0.8


def test_popularity_needs_dated_events_and_aware_splits():
    with pytest.raises(InvalidInputError, match="timestamps"):
        evaluate_popularity(_three_stories(), [{"article_id": "A", "reaction": "good", "count": 3}],
                            split=datetime(2026, 10, 2, tzinfo=UTC))
    with pytest.raises(InvalidOptionError, match="time zone"):
        evaluate_popularity(_three_stories(), [], split=datetime(2026, 10, 2))


# ---------------------------------------------------------------- recommendations
NOW = datetime(2026, 11, 28, 23, tzinfo=UTC)


@pytest.fixture(scope="module")
def reacted_model():
    model = Recommender().fit(sample_articles_path())
    model.record_reactions(load_reactions(sample_reactions_path()), now=NOW)
    return model


def test_recommendation_figures_for_the_model_and_both_baselines(reacted_model):
    pages = [ids[0] for ids in sample_stories()["stories"].values()]
    result = evaluate_recommendations(reacted_model, now=NOW, article_ids=pages, on_page=False)
    assert result["n_pages"] == len(pages)
    assert set(result) == {"model", "popularity_only", "similarity_only", "n_pages"}
    for figures in (result["model"], result["popularity_only"], result["similarity_only"]):
        assert figures["near_duplicate_rate"] == 0.0 and figures["mean_length"] == 8.0
        assert figures["popular_share"] + figures["long_tail_share"] == pytest.approx(1.0)
        assert 0 < figures["coverage"] <= 1
    assert result["similarity_only"]["intra_list_similarity"] > result["popularity_only"]["intra_list_similarity"]
    assert result["model"]["coverage"] > result["popularity_only"]["coverage"]
    assert reacted_model.blend_weights is None  # the baselines ran on copies


def test_recommendations_on_the_page_with_a_simulated_reader(reacted_model):
    labels = story_labels(sample_stories())
    reader = other_story_reader(labels)
    first, second = sorted(set(labels.values()))[:2]
    assert [labels[i] for i in reader("a001")] == [first, first]
    assert {labels[i] for i in reader(sorted(i for i in labels if labels[i] == first)[0])} == {second}
    result = evaluate_recommendations(reacted_model, now=NOW, history_fn=reader, article_ids=["a001", "a017", "a039"])
    assert result["n_pages"] == 3 and result["model"]["mean_length"] == 8.0


# ---------------------------------------------------------------- command line
def test_cli_evaluate_labels_and_mind(capsys):
    assert main(["evaluate", "labels", "-k", "5", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_queries"] == 62 and payload["precision"] > 0.85
    assert main(["evaluate", "mind", "--news", str(MIND / "news.tsv"), "--behaviors", str(MIND / "behaviors.tsv")]) == 0
    out = capsys.readouterr().out
    assert "auc" in out and "ndcg@10" in out and "5 impressions" in out
    assert all(name in out for name in ("library", "random", "popularity", "tfidf", "section share", "bootstrap"))


def test_cli_evaluate_popularity_and_recommendations_on_files(tmp_path, capsys, tiny_articles):
    assert main(["evaluate", "popularity", "--split", "2026-11-20T12:00:00Z", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_splits"] == 1 and set(payload["popular"]) == {"spearman", "kendall", "ndcg@8"}
    articles = tmp_path / "articles.jsonl"
    stories = {"port-1": "port", "port-2": "port", "port-3": "port", "cup-1": "cup", "cup-2": "cup"}
    articles.write_text("".join(json.dumps({**a, "story": stories.get(a["id"])}) + "\n" for a in tiny_articles))
    assert main(["evaluate", "labels", "--articles", str(articles), "-k", "2"]) == 0
    assert "precision" in capsys.readouterr().out
    assert main(["evaluate", "recommendations", "--articles", str(articles), "--now", "2026-10-30T00:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "new reader" in out and "reader of another story" in out and "popularity_only" in out
    assert main(["evaluate", "labels", "--articles", str(articles), "--label-field", "nope"]) == 1
    assert "label-field" in capsys.readouterr().err
    assert main(["evaluate", "popularity", "--articles", str(articles)]) == 1
    assert "--reactions" in capsys.readouterr().err


def test_cli_evaluate_lee_without_gensim_is_one_clear_line(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gensim" else real(name, *a))
    assert main(["evaluate", "lee"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'recommender[eval]'" in err
