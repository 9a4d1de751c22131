"""The command line: demo, build, related; one-line errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recommender.cli import main
from recommender.datasets import sample_articles_path, sample_stories


def test_demo_prints_three_pages_with_related_lists(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.count("Related") == 3 and out.count("Most popular now") == 3 and out.count("Recommended for you") == 3
    truth = sample_stories()
    first = next(iter(truth["stories"].values()))[0]
    assert f"· {first}" in out
    assert "same story · shares" in out  # the Related tier is shown


def test_build_then_related_json(tmp_path, capsys):
    model = tmp_path / "model"
    assert main(["build", str(sample_articles_path()), "--out", str(model)]) == 0
    out = capsys.readouterr().out
    assert "built" in out
    assert "Related date prior: on, 2 days (" in out  # the sample's stories run over a few days
    story = next(iter(sample_stories()["stories"].values()))
    assert main(["related", story[0], "--model", str(model), "-k", "4", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["article_id"] == story[0]
    assert len(payload["hits"]) == 4
    assert {"article_id", "score", "explanation", "terms"} <= set(payload["hits"][0])
    assert payload["hits"][0]["article_id"] in story


def test_related_to_text_from_the_command_line(tmp_path, capsys):
    model = tmp_path / "model"
    main(["build", str(sample_articles_path()), "--out", str(model)])
    capsys.readouterr()
    assert main(["related", "--model", str(model), "--title", "Festival", "--body", "film festival premiere", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"]


def test_errors_are_one_line_with_nonzero_exit(tmp_path, capsys):
    model = tmp_path / "model"
    main(["build", str(sample_articles_path()), "--out", str(model)])
    capsys.readouterr()
    assert main(["related", "no-such-id", "--model", str(model)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("recommender: error:") and "no-such-id" in err and err.count("\n") == 1
    assert main(["related", "x", "--model", str(tmp_path / "absent")]) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "t", "body": "b", "published_at": "2026-10-01T00:00:00"}\n')
    assert main(["build", str(bad), "--out", str(tmp_path / "m2")]) == 1
    assert "bad.jsonl:1" in capsys.readouterr().err


def test_build_lenient_reports_skipped_records(tmp_path, capsys):
    source = tmp_path / "mixed.jsonl"
    good = [json.loads(line) for line in sample_articles_path().read_text().splitlines()[:5]]
    source.write_text("\n".join([json.dumps(r) for r in good] + ["{broken"]) + "\n")
    assert main(["build", str(source), "--out", str(tmp_path / "m"), "--lenient"]) == 0
    captured = capsys.readouterr()
    assert "1 records skipped" in captured.out and "mixed.jsonl:6" in captured.err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as caught:
        main(["related"])
    assert caught.value.code == 2


def test_console_entry_point_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "recommender", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "recommender" in result.stdout


def test_build_with_reactions_then_ranking(tmp_path, capsys):
    from recommender.datasets import sample_reactions_path

    model = tmp_path / "model"
    assert main(["build", str(sample_articles_path()), "--reactions", str(sample_reactions_path()), "--out", str(model)]) == 0
    assert "6,301 reactions" in capsys.readouterr().out
    assert main(["ranking", "--model", str(model), "--now", "2026-11-28T23:00:00+00:00", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["hits"]
    assert 1 <= len(first) <= 8
    assert main(["ranking", "--model", str(model), "--now", "2026-11-28T23:00:00+00:00", "--mode", "trending"]) == 0
    assert "Trending" in capsys.readouterr().out
    assert main(["ranking", "--model", str(model), "--now", "2026-11-28T23:00:00"]) == 1
    assert "time zone" in capsys.readouterr().err


def test_recommend_from_the_command_line(tmp_path, capsys):
    from recommender.datasets import sample_reactions_path

    model = tmp_path / "model"
    main(["build", str(sample_articles_path()), "--reactions", str(sample_reactions_path()), "--out", str(model)])
    capsys.readouterr()
    story = next(iter(sample_stories()["stories"].values()))
    args = ["recommend", "--model", str(model), "--article", story[0], "--history", ",".join(story[1:3]),
            "--now", "2026-11-28T23:00:00+00:00", "--json"]
    assert main(args) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert len(hits) == 8 and not {h["article_id"] for h in hits} & set(story[:3])
    assert main(["recommend", "--model", str(model), "--now", "2026-11-28T23:00:00+00:00"]) == 0
    assert "Recommended for you" in capsys.readouterr().out


def test_build_says_the_date_prior_is_off_where_dates_say_nothing(tmp_path, capsys):
    source = tmp_path / "same_day.jsonl"
    with open(sample_articles_path(), encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    source.write_text("".join(json.dumps(dict(r, published_at="2026-01-05T12:00:00+00:00")) + "\n" for r in records),
                      encoding="utf-8")
    assert main(["build", str(source), "--out", str(tmp_path / "model")]) == 0
    assert "Related date prior: off (100% of close neighbours" in capsys.readouterr().out
