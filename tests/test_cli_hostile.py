"""Every subcommand with hostile arguments: one line on stderr, exit status 1 or 2, no traceback.

Each invocation runs :func:`recommender.cli.main` in this process; a bug would surface as the
CLI's one-line "unexpected error" report, which fails the test as surely as a traceback. Full
disks run in a child process with a file-size limit (``RLIMIT_FSIZE``), so writes fail with
``EFBIG`` as they would with ``ENOSPC``.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.cli import BUG_PREFIX, main
from recommender.datasets import sample_articles_path

NOW = "2026-11-28T23:00:00+00:00"
FILE_SIZE_LIMIT = 4096  # bytes per file: below the sample model's larger arrays and any SQLite output


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    model = root / "model"
    assert main(["build", str(sample_articles_path()), "--out", str(model)]) == 0
    records = sample_articles_path().read_bytes()
    (root / "plain.jsonl.gz").write_bytes(records)  # not gzip data
    (root / "truncated.jsonl.gz").write_bytes(gzip.compress(records)[:-100])
    (root / "dir.jsonl").mkdir()
    (root / "empty.jsonl").write_text("")
    (root / "notes.txt").write_text("hello")
    (root / "nolabels.jsonl").write_text(json.dumps({"id": "a", "title": "t", "body": "b c",
                                                     "published_at": NOW}) + "\n")
    (root / "outdir").mkdir()
    (root / "jsonldir").mkdir()
    os.mkfifo(root / "fifo")  # a special file made here: a regression must not replace a real device
    return {"root": root, "model": model, "articles": sample_articles_path()}


def _cases(f: dict[str, Path]) -> list[list[str]]:
    model, root, articles = str(f["model"]), f["root"], str(f["articles"])
    out = str(root / "lists.sqlite")
    return [
        [],
        ["no-such-command"],
        ["related", "x"],  # --model missing
        ["related", "--model", model, "-k", "abc"],
        ["demo", "--articles", str(root / "absent.jsonl")],
        ["demo", "--articles", str(root / "dir.jsonl")],
        ["demo", "--articles", str(root / "plain.jsonl.gz")],
        ["demo", "--articles", str(root / "notes.txt")],
        ["demo", "--article", "no-such-id"],
        ["build", str(root / "absent.jsonl"), "--out", str(root / "m1")],
        ["build", str(root / "plain.jsonl.gz"), "--out", str(root / "m1")],
        ["build", str(root / "truncated.jsonl.gz"), "--out", str(root / "m1")],
        ["build", str(root / "truncated.jsonl.gz"), "--out", str(root / "m1"), "--lenient"],
        ["build", str(root / "dir.jsonl"), "--out", str(root / "m1")],
        ["build", str(root / "empty.jsonl"), "--out", str(root / "m1")],
        ["build", articles, "--out", "/etc/passwd/model"],
        ["build", articles, "--out", str(root / "notes.txt")],  # a file: refused before the fit
        ["build", articles, "--out", "/proc/model"],  # a file system that takes no directories
        ["build", articles, "--out", str(root / "m1"), "--title-weight", "nan"],
        ["build", articles, "--out", str(root / "m1"), "--title-weight", "-1"],
        ["build", articles, "--out", str(root / "m1"), "--duplicate-threshold", "inf"],
        ["build", articles, "--out", str(root / "m1"), "--n-jobs", "0"],
        ["build", articles, "--out", str(root / "m1"), "--dask", "nonsense"],
        ["build", articles, "--out", str(root / "m1"), "--reactions", str(root / "absent.csv")],
        ["build", articles, "--out", str(root / "m1"), "--reactions", str(root / "plain.jsonl.gz")],
        ["related", "--model", model, "some-id", "--max-age-days", "nan"],
        ["related", "--model", model, "some-id", "--max-age-days", "inf"],
        ["related", "--model", model, "some-id", "--max-age-days", "1e300"],
        ["related", "--model", model, "some-id", "--max-age-days", "-1"],
        ["related", "--model", model, "no-such-id"],
        ["related", "--model", model, "no-such-id", "-k", "0"],
        ["related", "--model", str(root / "absent"), "x"],
        ["related", "--model", articles, "x"],
        ["related", "--model", model],  # neither id nor body
        ["related", "--model", model, "--body", "x", "--section", "news", "--same-section", "--other-section"],
        ["ranking", "--model", model, "--now", "2026-11-28T23:00:00"],
        ["ranking", "--model", model, "--now", "yesterday"],
        ["ranking", "--model", model, "-k", "-1"],
        ["ranking", "--model", model, "--mode", "viral"],
        ["recommend", "--model", model, "--article", "no-such-id"],
        ["recommend", "--model", model, "--now", "x"],
        ["recommend", "--model", model, "-k", "0"],
        ["precompute", "--model", model, "--out", out, "--n-jobs", "0"],
        ["precompute", "--model", model, "--out", out, "-k", "0"],
        ["precompute", "--model", model, "--out", out, "--block-size", "0"],
        ["precompute", "--model", model, "--out", "/etc/passwd/x.sqlite"],
        ["precompute", "--model", model, "--out", str(root / "outdir")],
        ["precompute", "--model", model, "--out", str(root / "fifo")],  # stands for /dev/full: not a regular file
        ["precompute", "--model", model, "--out", out, "--jsonl", str(root / "fifo")],
        ["precompute", "--model", model, "--out", "/proc/lists.sqlite"],  # a file system that takes no files
        ["precompute", "--model", model, "--out", "/sys/lists.sqlite"],  # read-only, even for root
        ["precompute", "--model", model, "--out", out, "--jsonl", str(root / "jsonldir")],
        ["precompute", "--model", model, "--out", str(root / "notes.txt")],  # not an earlier output: kept
        ["precompute", "--model", model, "--out", out, "--jsonl", str(root / "notes.txt")],
        ["precompute", "--model", model, "--out", out, "--jsonl", "/proc/lists.jsonl"],  # refused before any work
        ["precompute", "--model", model, "--out", out, "--pages"],
        ["precompute", "--model", model, "--out", out, "--pages", "--now", "2026-11-28"],
        ["precompute", "--model", str(root / "absent"), "--out", out],
        ["evaluate"],
        ["evaluate", "labels", "--articles", str(root / "plain.jsonl.gz")],
        ["evaluate", "labels", "--articles", str(root / "truncated.jsonl.gz")],
        ["evaluate", "labels", "--articles", str(root / "absent.jsonl")],
        ["evaluate", "labels", "--articles", str(root / "nolabels.jsonl")],
        ["evaluate", "labels", "-k", "0"],
        ["evaluate", "popularity", "--articles", articles],
        ["evaluate", "popularity", "--split", "noon"],
        ["evaluate", "mind", "--news", str(root / "absent.tsv"), "--behaviors", str(root / "absent.tsv")],
        ["evaluate", "recommendations", "--now", "x"],
    ]


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        status = main(argv)
    except SystemExit as stop:  # argparse
        status = stop.code
    return status, capsys.readouterr().err


def _check(argv: list[str], status: int, err: str) -> None:
    lines = err.splitlines()
    assert status in (1, 2), (argv, status, err)
    assert len(lines) == 1 and err.endswith("\n"), (argv, err)
    assert "Traceback" not in err and BUG_PREFIX not in err, (argv, err)


def test_hostile_invocations_print_one_line(files, capsys):
    cases = _cases(files)
    assert len(cases) >= 60
    for argv in cases:
        status, err = _run(argv, capsys)
        _check(argv, status, err)
    assert not (files["root"] / "m1").exists()  # no failed build left a model behind
    assert (files["root"] / "notes.txt").read_text() == "hello"  # nothing replaced a file that was no output
    assert not (files["root"] / "lists.sqlite").exists()  # the JSON lines' failure came before any work


def test_a_build_checks_its_output_before_it_fits(files, capsys, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran before the output was checked")

    monkeypatch.setattr("recommender.cli.Recommender.fit", no_fit)
    status, err = _run(["build", str(files["articles"]), "--out", str(files["root"] / "notes.txt")], capsys)
    assert status == 1 and "cannot create a model directory here" in err


def test_sigterm_stops_a_command_as_ctrl_c_does(files, capsys, monkeypatch):
    def terminated(args):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the command")

    monkeypatch.setattr("recommender.cli._cmd_precompute", terminated)
    status, err = _run(["precompute", "--model", str(files["model"]), "--out", str(files["root"] / "x.sqlite")],
                       capsys)
    assert status == 130 and err == "recommender: interrupted\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # put back as it was
    assert (files["root"] / "fifo").is_fifo()


def test_build_with_dask_but_without_dask_installed(files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if not installed
    argv = ["build", str(files["articles"]), "--out", str(files["root"] / "m2"), "--dask", "tcp://127.0.0.1:1"]
    status, err = _run(argv, capsys)
    _check(argv, status, err)
    assert "pip install" in err


def test_the_loser_of_two_runs_on_one_output_stops_at_once(files, capsys):
    out = files["root"] / "shared.sqlite"
    with open(out.with_name(out.name + ".lock"), "a+b") as lock:  # as a run in progress holds it
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        argv = ["precompute", "--model", str(files["model"]), "--out", str(out)]
        status, err = _run(argv, capsys)
    _check(argv, status, err)
    assert "another run" in err and not out.exists()
    assert main(argv) == 0 and out.exists()  # once the lock is free
    capsys.readouterr()


def test_k_beyond_the_archive_is_capped(files, capsys):
    out = files["root"] / "wide.sqlite"
    assert main(["precompute", "--model", str(files["model"]), "--out", str(out), "-k", "1000000000000"]) == 0
    assert main(["related", "--model", str(files["model"]), "--body", "strike port", "-k", "1000000000000"]) == 0
    capsys.readouterr()


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


@pytest.mark.parametrize("command", ["precompute", "build"])
def test_a_full_disk_is_one_line(files, command):
    root = files["root"]
    argv = (["precompute", "--model", str(files["model"]), "--out", str(root / "full.sqlite"), "--jsonl",
             str(root / "full.jsonl")] if command == "precompute"
            else ["build", str(files["articles"]), "--out", str(root / "full-model")])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-m", "recommender", *argv], capture_output=True, text=True, env=env,
                          preexec_fn=_limit_file_size, timeout=300)
    _check(argv, done.returncode, done.stderr)
    assert not (root / "full.sqlite").exists()
