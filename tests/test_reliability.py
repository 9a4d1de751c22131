"""Reliability: crash-safe publishing, integrity checks on load, concurrent readers and writers.

What is proven here (see ``docs/reliability.md`` for the guarantees and their limits):

* a writer killed with SIGKILL at random moments while it saves leaves a model that loads
  and serves exactly the lists of one of the two versions it alternates between;
* readers loading while a writer publishes see one complete version, never a mix, even
  when the version they resolved is pruned under them; a loaded (memory-mapped) model
  keeps serving after its files are deleted;
* leftovers of a killed writer are ignored by readers and cleaned by later writers;
* damaged, hostile or inconsistent artifacts raise ``CorruptArtifactError``, never run
  code, never hang;
* 8 query threads and a writer thread share one model without errors, and several
  processes memory-mapping one saved model serve identical lists.

``tests/soak/kill_soak.py`` runs the kill test for longer.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from recommender import (
    ArtifactError,
    CorruptArtifactError,
    IncompatibleArtifactError,
    Recommender,
    load_articles,
    load_reactions,
)
from recommender import _store as store
from recommender.datasets import sample_articles_path, sample_reactions_path
from recommender import _options as options
from recommender._persist import to_artifact
from .conftest import as_records_format

posix_only = pytest.mark.skipif(os.name != "posix", reason="symbolic links, fork and SIGKILL are POSIX")

KILL_TRIALS = 30


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """As in a site's worker processes; idle BLAS threads spinning on a busy 2-core CI
    machine otherwise slow every Recommendation list tenfold."""
    with threadpool_limits(limits=1):
        yield


CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def corpus():
    return load_articles(sample_articles_path())


@pytest.fixture(scope="module")
def reactions():
    return load_reactions(sample_reactions_path())


@pytest.fixture(scope="module")
def now(corpus):
    return max(a.published_at for a in corpus) + timedelta(hours=1)


@pytest.fixture(scope="module")
def model_a(corpus, reactions):
    """Fitted on the first 55 sample articles."""
    return Recommender().fit(corpus[:55], reactions=reactions)


@pytest.fixture(scope="module")
def model_b(corpus, reactions):
    """Fitted on the last 54: a different vocabulary, catalogue and popularity."""
    return Recommender(title_weight=3.0).fit(corpus[25:], reactions=reactions)


def signature(rec: Recommender, now) -> dict:
    """Every list a site would show, for comparing two models exactly."""
    ids = rec.article_ids
    return {
        "ids": ids,
        "related": {article_id: rec.related(article_id, k=5) for article_id in ids},
        "ranking": rec.ranking(k=8, now=now),
        "trending": rec.ranking(k=8, now=now, mode="trending"),
        "recommend": rec.recommend(ids[-1], history=ids[:3], k=8, now=now),
        "page": rec.page(ids[len(ids) // 2], now=now),
    }


@pytest.fixture(scope="module")
def saved(tmp_path_factory, model_a, model_b, now):
    """Models A and B saved once, with their signatures; A and B really differ."""
    root = tmp_path_factory.mktemp("sources")
    model_a.save(root / "a")
    model_b.save(root / "b")
    sig_a, sig_b = signature(model_a, now), signature(model_b, now)
    assert sig_a != sig_b and sig_a["ids"] != sig_b["ids"]
    assert signature(Recommender.load(root / "a"), now) == sig_a
    return {"a": root / "a", "b": root / "b", "sig_a": sig_a, "sig_b": sig_b}


def which(sig: dict, saved: dict) -> str:
    """'a' or 'b'; fails the test for anything else (a mix of the two)."""
    for name in ("a", "b"):
        if sig == {key: saved[f"sig_{name}"][key] for key in sig}:
            return name
    raise AssertionError("the loaded model is neither version A nor version B")


def quick_signature(rec: Recommender, now) -> dict:
    """A part of :func:`signature`, cheap enough to check many loads during writes."""
    ids = rec.article_ids
    return {"ids": ids, "related": {article_id: rec.related(article_id, k=5) for article_id in ids},
            "ranking": rec.ranking(k=8, now=now)}


def leftovers(path: Path) -> set[str]:
    """Staging directories and temporary links that writers left behind."""
    staging = {p.name for p in (path / "versions").iterdir() if p.name.startswith(store.STAGING_PREFIX)}
    return staging | {p.name for p in path.iterdir() if p.name.startswith(f".{store.CURRENT}.")}


# ---------------------------------------------------------------------------- crash safety
# A fork server: one interpreter imports the library and loads A and B once, then forks a
# fresh writer process per trial (a real process, killed with a real SIGKILL) so that
# each trial costs milliseconds instead of a one-second interpreter start.
WRITER_SERVER = textwrap.dedent(
    """
    import os, random, sys, traceback
    from recommender import Recommender
    models = [Recommender.load(sys.argv[1]), Recommender.load(sys.argv[2])]
    print("ready", flush=True)
    for line in sys.stdin:
        command, argument = line.split()
        if command == "spawn":
            pid = os.fork()
            if pid == 0:
                try:
                    random.seed()
                    turn = random.randrange(2)
                    while True:
                        models[turn % 2].save(argument)
                        turn += 1
                except BaseException:
                    traceback.print_exc()
                    os._exit(3)
            print(pid, flush=True)
        elif command == "reap":
            print(os.waitpid(int(argument), 0)[1], flush=True)
    """
)


@posix_only
def test_a_writer_killed_at_random_moments_leaves_one_whole_version(saved, tmp_path, model_a, now):
    path = tmp_path / "m"
    model_a.save(path)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        model_a.save(path)
        timings.append(time.perf_counter() - started)
    save_seconds = sorted(timings)[1]
    server = subprocess.Popen(
        [sys.executable, "-c", WRITER_SERVER, str(saved["a"]), str(saved["b"])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=CHILD_ENV,
    )
    rng = random.Random(8)
    seen = {"a": 0, "b": 0}
    loads_while_writing = mid_publish = 0
    pid = None
    try:
        assert server.stdout.readline().strip() == "ready"
        for _ in range(KILL_TRIALS):
            server.stdin.write(f"spawn {path}\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            before = leftovers(path)
            deadline = time.perf_counter() + rng.uniform(0, min(3 * save_seconds, 0.3))
            while time.perf_counter() < deadline:  # a reader loads while the writer publishes
                which(quick_signature(Recommender.load(path, mmap=True), now), saved)
                loads_while_writing += 1
            os.kill(pid, signal.SIGKILL)
            server.stdin.write(f"reap {pid}\n")
            server.stdin.flush()
            status = int(server.stdout.readline())
            pid = None
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "the writer failed by itself"
            mid_publish += bool(leftovers(path) - before)
            seen[which(signature(Recommender.load(path), now), saved)] += 1
    finally:
        if pid is not None:  # a failed check: stop the running writer, not only the server
            os.kill(pid, signal.SIGKILL)
        server.kill()
        server.communicate()
    print(f"\n{KILL_TRIALS} kills survived ({seen}), {mid_publish} of them mid-publish, "
          f"{loads_while_writing} loads during writes; one save takes {save_seconds * 1000:.0f} ms")
    # leftovers of all those kills do not stop the next writer, and the result is exact
    model_a.save(path)
    assert which(signature(Recommender.load(path), now), saved) == "a"


def _age(path: Path, seconds: float) -> None:
    moment = time.time() - seconds
    if path.is_dir() and not path.is_symlink():
        for entry in path.iterdir():
            os.utime(entry, (moment, moment), follow_symlinks=False)
    os.utime(path, (moment, moment), follow_symlinks=False)


@posix_only
def test_leftovers_of_a_killed_writer_are_ignored_then_cleaned(saved, tmp_path, model_a, model_b, now):
    path = tmp_path / "m"
    model_a.save(path)
    version = store.resolve(path)
    stale_staging = path / "versions" / ".tmp-20200101T000000000000Z-dead00"
    live_staging = path / "versions" / ".tmp-29990101T000000000000Z-busy00"
    for staging in (stale_staging, live_staging):
        staging.mkdir()
        (staging / "vectors_data.npy").write_bytes(b"\x93NUMPY half written")
        (staging / "manifest.json").write_text("{\"format\": ")
    stale_link, live_link = path / ".current.deadbeef", path / ".current.0b5e55ed"
    os.symlink("versions/gone", stale_link)  # dangling
    os.symlink(os.path.relpath(version, path), live_link)
    _age(stale_staging, 2 * store.STALE_AFTER)
    _age(stale_link, 2 * store.STALE_AFTER)

    assert which(signature(Recommender.load(path), now), saved) == "a"
    model_b.save(path)
    assert which(signature(Recommender.load(path), now), saved) == "b"
    assert not stale_staging.exists() and not os.path.lexists(stale_link)
    # younger than STALE_AFTER: perhaps a concurrent writer at work, left alone
    assert live_staging.exists() and os.path.lexists(live_link)


@posix_only
def test_a_dangling_current_link_is_reported_and_repaired_by_the_next_save(tmp_path, model_a):
    path = tmp_path / "m"
    model_a.save(path)
    target = store.resolve(path)
    os.rename(target, target.with_name("moved-away"))
    with pytest.raises(CorruptArtifactError, match="current.*missing"):
        Recommender.load(path)
    model_a.save(path)
    assert Recommender.load(path).article_ids == model_a.article_ids


def test_a_reader_keeps_its_version_while_writers_publish(saved, tmp_path, model_a, model_b, now):
    path = tmp_path / "m"
    model_a.save(path)
    resolved = store.resolve(path)
    reader = Recommender.load(path, mmap=True)
    for turn in range(2):  # keep=2: the version survives two more publishes...
        (model_b, model_a)[turn % 2].save(path, retain_seconds=0)
        assert resolved.is_dir()
    assert which(signature(Recommender.load(resolved), now), saved) == "a"  # a reader that resolved late
    model_b.save(path, retain_seconds=0)  # ...and is pruned by the third
    assert not resolved.exists()
    assert which(signature(reader, now), saved) == "a"  # mapped arrays outlive their files
    assert which(signature(Recommender.load(path), now), saved) == "b"


def test_loads_racing_with_publish_and_prune_see_one_whole_version(saved, tmp_path, model_a, model_b, now):
    """keep=0 deletes the previous version right after the switch: the worst case for a
    reader that resolved it a moment earlier. read() starts again from the new version."""
    path = tmp_path / "m"
    model_a.save(path)
    artifacts = [to_artifact(m._fitted(), options.to_json(m.get_params())) for m in (model_a, model_b)]
    stop = threading.Event()
    published, failures = [0], []

    def writer():
        try:
            while not stop.is_set():
                store.publish(path, **artifacts[published[0] % 2], keep=0, retain_seconds=0)
                published[0] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    ids = {tuple(saved["sig_a"]["ids"]): "a", tuple(saved["sig_b"]["ids"]): "b"}
    seen = {"a": 0, "b": 0}
    try:
        deadline = time.perf_counter() + 2.0
        while thread.is_alive() and (time.perf_counter() < deadline or published[0] < 10):
            loaded = Recommender.load(path, mmap=True)
            name = ids[tuple(loaded.article_ids)]  # a KeyError would mean a mix
            seen[name] += 1
            if seen[name] % 10 == 0:  # the full check costs more than a load: now and then
                assert which(quick_signature(loaded, now), saved) == name
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert published[0] >= 10 and sum(seen.values()) >= 10
    assert len([p for p in (path / "versions").iterdir()]) == 1


def test_concurrent_writers_leave_a_whole_current_version(saved, tmp_path, model_a, model_b, now):
    path = tmp_path / "m"
    model_a.save(path)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for turn in range(6):
                (model_a, model_b)[(number + turn) % 2].save(path, retain_seconds=0)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    loads = 0
    while any(thread.is_alive() for thread in threads):
        which(quick_signature(Recommender.load(path), now), saved)
        loads += 1
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert which(signature(Recommender.load(path), now), saved) in ("a", "b")
    assert len([p for p in (path / "versions").iterdir() if not p.name.startswith(".")]) <= 3 + 2  # keep + racing writers
    assert not leftovers(path)


@pytest.mark.parametrize("failing", ["save", "fsync", "symlink"])
def test_a_failed_write_keeps_the_previous_version(saved, tmp_path, model_a, model_b, now, monkeypatch, failing):
    path = tmp_path / "m"
    model_a.save(path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    target = {"save": (np, "save"), "fsync": (os, "fsync"), "symlink": (os, "symlink")}[failing]
    with monkeypatch.context() as patch:
        patch.setattr(*target, disk_full)
        with pytest.raises(ArtifactError, match="No space left"):
            model_b.save(path)
    assert which(signature(Recommender.load(path), now), saved) == "a"
    assert not leftovers(path)
    model_b.save(path)
    assert which(signature(Recommender.load(path), now), saved) == "b"


def test_save_into_an_unusable_place_is_an_artifact_error(tmp_path, model_a):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ArtifactError, match="cannot"):
        model_a.save(tmp_path / "file")
    with pytest.raises(ArtifactError, match="cannot"):
        model_a.save(tmp_path / "file" / "m")


# ---------------------------------------------------------------------------- integrity
@pytest.fixture()
def version(tmp_path, model_a):
    model_a.save(tmp_path / "m")
    return store.resolve(tmp_path / "m")


def _rewrite_manifest(version: Path, change) -> None:
    manifest = json.loads((version / "manifest.json").read_text())
    change(manifest)
    (version / "manifest.json").write_text(json.dumps(manifest))


def _replace_file(version: Path, name: str, content: bytes) -> None:
    """Replace a file and fix its checksum, as someone with write access could."""
    (version / name).write_bytes(content)
    _rewrite_manifest(version, lambda m: m["files"].__setitem__(
        name, {"sha256": store._sha256(version / name), "bytes": len(content)}))


@pytest.mark.parametrize("content", [
    b"", b"not json", b"\xff\xfe\x00garbage", b"[]", b"null", b'{"format": "recommender-model"}',
    b"[" * 100_000 + b"]" * 100_000, b'{"format": "recommender-model", "format_version": 1, "files": []}',
])
def test_a_manifest_that_is_not_a_manifest(version, content):
    (version / "manifest.json").write_bytes(content)
    with pytest.raises(CorruptArtifactError, match="manifest.json"):
        Recommender.load(version.parent.parent)


@pytest.mark.parametrize("name, facts, message", [
    ("idf.npy", "ok", "size"),
    ("idf.npy", None, "size"),
    ("idf.npy", {"bytes": "12", "sha256": "x"}, "size"),
    ("idf.npy", {"sha256": ["not", "a", "string"]}, "size"),
    ("", {}, "plain name|not a regular file"),
    ("a/b.npy", {}, "plain name"),
    ("..", {}, "plain name"),
    ("/etc/passwd", {}, "plain name"),
])
def test_a_manifest_listing_a_file_with_bad_facts(version, name, facts, message):
    _rewrite_manifest(version, lambda m: m["files"].__setitem__(name, facts))
    for verify in (True, False):
        with pytest.raises(CorruptArtifactError, match=message):
            Recommender.load(version.parent.parent, verify=verify)


def test_a_checksum_of_the_wrong_type_is_a_mismatch(version):
    size = (version / "idf.npy").stat().st_size
    _rewrite_manifest(version, lambda m: m["files"].__setitem__("idf.npy", {"bytes": size, "sha256": 12}))
    with pytest.raises(CorruptArtifactError, match="idf.npy.*checksum"):
        Recommender.load(version.parent.parent)


def test_a_file_of_an_unexpected_type_is_refused_even_with_a_valid_checksum(version):
    _replace_file(version, "extra.pkl", b"\x80\x04K\x01.")
    with pytest.raises(CorruptArtifactError, match="extra.pkl.*unexpected file type"):
        Recommender.load(version.parent.parent)


@posix_only
def test_a_symlink_planted_in_a_version_is_refused(version, tmp_path):
    outside = tmp_path / "outside.npy"
    outside.write_bytes((version / "idf.npy").read_bytes())  # identical bytes: checksum would pass
    (version / "idf.npy").unlink()
    os.symlink(outside, version / "idf.npy")
    for verify in (True, False):
        with pytest.raises(CorruptArtifactError, match="idf.npy.*symbolic link"):
            Recommender.load(version.parent.parent, verify=verify, mmap=True)


@posix_only
def test_a_symlinked_manifest_and_special_files_are_refused_without_blocking(version, tmp_path):
    os.mkfifo(version / "pipe.json")  # opening a FIFO for reading would block forever
    _rewrite_manifest(version, lambda m: m["files"].__setitem__("pipe.json", {"bytes": 0, "sha256": ""}))
    with pytest.raises(CorruptArtifactError, match="pipe.json.*not a regular file"):
        Recommender.load(version.parent.parent, verify=False)
    (version / "manifest.json").rename(tmp_path / "manifest.json")
    os.symlink(tmp_path / "manifest.json", version / "manifest.json")
    with pytest.raises(CorruptArtifactError, match="manifest.json.*symbolic link"):
        Recommender.load(version.parent.parent)


def test_deeply_nested_json_document_is_corrupt_not_a_recursion_error(version):
    _replace_file(version, "terms.json", b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(CorruptArtifactError, match="terms.json"):
        Recommender.load(version.parent.parent)


@pytest.mark.parametrize("name, content", [
    ("terms.json", b"{}"),
    ("terms.json", b'["only", "three", "terms"]'),
    ("sections.json", b"{}"),
    ("sections.json", b"[]"),
    ("catalog_ids_offsets.npy", None),
    ("catalog_id_hashes.npy", None),
    ("catalog_published.npy", None),
    ("removed.npy", None),
    ("pending_reactions.json", b'[["a", "good"]]'),
    ("pending_reactions.json", b'[["a001", "good", 1, "yesterday"]]'),
    ("idf.npy", None),  # an array of another shape, valid .npy
    ("popularity_last.npy", None),
])
def test_consistent_checksums_but_inconsistent_content_is_corrupt(version, name, content):
    if content is None:
        import io

        buffer = io.BytesIO()
        np.save(buffer, np.zeros(3), allow_pickle=False)
        content = buffer.getvalue()
    _replace_file(version, name, content)
    with pytest.raises(CorruptArtifactError, match="inconsistent"):
        Recommender.load(version.parent.parent)


@pytest.mark.parametrize("content", [b"[]", b"[1, 2, 3]", b'[{"id": "x"}]'])
def test_a_format_2_model_with_inconsistent_article_records_is_corrupt(version, content):
    as_records_format(version)
    _replace_file(version, "articles.json", content)
    with pytest.raises(CorruptArtifactError, match="inconsistent"):
        Recommender.load(version.parent.parent)


def test_a_catalogue_holding_an_id_twice_is_corrupt(version):
    ids = np.load(version / "catalog_ids_blob.npy")
    offsets = np.load(version / "catalog_ids_offsets.npy")
    first = ids[offsets[0]:offsets[1]].tobytes()
    second = ids[offsets[1]:offsets[2]].tobytes()
    if len(first) != len(second):
        pytest.skip("the first two ids differ in length")
    ids[offsets[1]:offsets[2]] = np.frombuffer(first, dtype=np.uint8)
    import io

    buffer = io.BytesIO()
    np.save(buffer, ids, allow_pickle=False)
    _replace_file(version, "catalog_ids_blob.npy", buffer.getvalue())
    with pytest.raises(CorruptArtifactError, match="inconsistent"):
        Recommender.load(version.parent.parent)


@pytest.mark.parametrize("change", [
    lambda m: m.__setitem__("config", None),
    lambda m: m.__setitem__("config", {"title_weight": 2.0}),
    lambda m: m["config"].__setitem__("surprise", 1),
    lambda m: m["config"].__setitem__("duplicate_threshold", "high"),
    lambda m: m["config"].__setitem__("ranking_max_age", "a week"),
    lambda m: m.__setitem__("vectorizer", "oops"),
    lambda m: m["vectorizer"].__setitem__("dtype", "object"),
    lambda m: m.pop("vectorizer"),
])
def test_a_manifest_with_bad_options_is_corrupt(version, change):
    _rewrite_manifest(version, change)
    with pytest.raises(CorruptArtifactError):
        Recommender.load(version.parent.parent)


@pytest.mark.parametrize("mmap", [False, True])
def test_verify_false_on_a_good_model_serves_the_same_lists(saved, mmap, now):
    assert which(signature(Recommender.load(saved["a"], verify=False, mmap=mmap), now), saved) == "a"


def test_verify_false_still_checks_sizes(version):
    target = version / "vectors_data.npy"
    target.write_bytes(target.read_bytes() + b"\x00" * 8)
    with pytest.raises(CorruptArtifactError, match="vectors_data.npy.*size"):
        Recommender.load(version.parent.parent, verify=False)


# ---------------------------------------------------------------------------- concurrency
QUERY_THREADS = 8


def test_eight_query_threads_and_a_writer_share_one_model(corpus, reactions, now):
    rec = Recommender().fit(corpus, reactions=reactions)
    original = list(rec.article_ids)
    rng = random.Random(4)
    stop = threading.Event()
    errors: list[BaseException] = []
    served = [0] * QUERY_THREADS
    returned: set[str] = set()
    added: list[str] = []

    def distinct(ids):
        assert len(ids) == len(set(ids)), ids

    def reader(number: int) -> None:
        local = random.Random(number)
        try:
            while not stop.is_set():
                article_id = local.choice(original + added[-5:])
                kind = local.randrange(4)
                if kind == 0:
                    hits = [h.article_id for h in rec.related(article_id, k=local.randint(1, 12))]
                    assert article_id not in hits
                elif kind == 1:
                    page = rec.page(article_id, history=local.sample(original, 3), now=now)
                    hits = [h.article_id for h in page.related + page.ranking + page.recommendation]
                    assert article_id not in hits
                elif kind == 2:
                    hits = [h.article_id for h in rec.ranking(k=8, now=now, mode=local.choice(["popular", "trending"]))]
                else:
                    hits = [h.article_id for h in rec.recommend(article_id, history=local.sample(original, 2), now=now)]
                distinct(hits)
                returned.update(hits)
                served[number] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            stop.set()

    def writer() -> None:
        try:
            for round_ in range(40):
                if stop.is_set():
                    break
                new_id = f"update-{round_}"
                article = follow_up(corpus[rng.randrange(len(corpus))], new_id)
                rec.add_articles([dict(article, published_at=(now - timedelta(minutes=30)).isoformat())])
                added.append(new_id)
                rec.record_reactions(
                    [{"article_id": rng.choice(rec.article_ids), "reaction": "good", "at": now.isoformat()}
                     for _ in range(20)]
                    + [{"article_id": f"update-{round_ + 1}", "reaction": "sad", "count": 3}],  # pending until added
                    now=now,
                )
                time.sleep(0.02)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(QUERY_THREADS)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hangs"
    assert not errors, errors
    final = set(rec.article_ids)
    assert len(final) == len(original) + 40 and set(added) <= final
    assert returned <= final
    assert min(served) > 0
    print(f"\n{sum(served)} queries served by {QUERY_THREADS} threads during 40 add_articles + "
          f"40 record_reactions")


CHILD = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime
    import numpy as np
    from recommender import Recommender
    rec = Recommender.load(sys.argv[1], mmap=True)
    now = datetime.fromisoformat(sys.argv[2])
    def is_mapped(array):
        while array is not None:
            if isinstance(array, np.memmap):
                return True
            array = array.base
        return False
    mapped = all(is_mapped(a) for a in (rec.index_.vectors.data, rec.index_.postings.indices))
    lists = {i: [[h.article_id, h.score] for h in rec.related(i, k=10)] for i in rec.article_ids}
    lists["<ranking>"] = [[h.article_id, h.score] for h in rec.ranking(k=8, now=now)]
    print(json.dumps({"mapped": mapped, "lists": lists}))
    """
)


def test_worker_processes_sharing_one_mapped_model_serve_identical_lists(tmp_path, corpus, reactions, now):
    rec = Recommender().fit(corpus, reactions=reactions)
    rec.save(tmp_path / "m")
    expected = {i: [[h.article_id, h.score] for h in rec.related(i, k=10)] for i in rec.article_ids}
    expected["<ranking>"] = [[h.article_id, h.score] for h in rec.ranking(k=8, now=now)]
    workers = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "m"), now.isoformat()],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
        for _ in range(4)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
        answer = json.loads(out)
        assert answer["mapped"]
        assert answer["lists"] == json.loads(json.dumps(expected))


# ---------------------------------------------------------------------------- regressions
def follow_up(article, new_id: str) -> dict:
    """A new article on the same story (related, cosine ~0.7, not a near-duplicate)."""
    words = article.body.split()
    return {"id": new_id, "title": f"Reaction: {article.title}", "section": article.section,
            "body": " ".join(words[: len(words) // 3]) + " In other news, the city council approved a new budget.",
            "published_at": article.published_at}


def test_a_page_is_built_from_one_state_while_a_writer_adds_articles(corpus, now, monkeypatch):
    """Regression: page() read the state twice and raised UnknownArticleError when an
    add_articles landed between the two reads (the race the thread test above can hit)."""
    import recommender._queries

    rec = Recommender().fit(corpus[:40])
    article = corpus[0]
    before = set(rec.article_ids)
    check_now = recommender._queries.check_now

    def check_now_then_a_concurrent_add(moment):
        # what another thread's add_articles does while page() is half done
        if "follow-up" not in rec.article_ids:
            rec.add_articles([follow_up(article, "follow-up")])
        return check_now(moment)

    monkeypatch.setattr(recommender._queries, "check_now", check_now_then_a_concurrent_add)
    page = rec.page(article.id, now=now)
    ids = [h.article_id for h in page.related + page.ranking + page.recommendation]
    assert len(ids) == len(set(ids)) and article.id not in ids
    assert set(ids) <= before | {"follow-up"}
    assert "follow-up" in [h.article_id for h in rec.related(article.id)]


def test_a_model_saved_by_an_earlier_release_of_format_1_still_loads(saved, tmp_path, model_a, now):
    path = tmp_path / "m"
    model_a.save(path)
    version = store.resolve(path)
    as_records_format(version)
    for later_addition in ("growth.json", "removed.npy"):
        _rewrite_manifest(version, lambda m: m["files"].pop(later_addition, None))
        (version / later_addition).unlink(missing_ok=True)
    try:
        loaded = Recommender.load(path)
    except IncompatibleArtifactError:
        return  # a new format version is a fine fix too
    assert which(signature(loaded, now), saved) == "a"
