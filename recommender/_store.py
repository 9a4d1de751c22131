"""Safe, atomic storage of model artifacts: plain ``.npy`` arrays plus JSON, with checksums.

Layout
------
A model path is a directory of versions with a ``current`` pointer::

    models/news/
        current -> versions/20261129T151700Z-3f2a9c
        versions/20261129T151700Z-3f2a9c/
            manifest.json        format, version, created_at, config, counts, sha256 of every file
            *.npy                arrays (CSR parts, IDF...), loadable with mmap
            *.json               vocabulary, article metadata...

How publishing works: a new version is written into a hidden staging directory, every
file is flushed to disk, the directory is renamed into ``versions/``, and only then is
``current`` switched with one atomic :func:`os.replace` of a symbolic link. A writer killed
at any moment leaves either the old or the new version current, never a mix.

Retention, after each publish: a finished version is deleted only when it is neither the new
one nor what ``current`` points to by then, ``keep`` newer finished versions exist besides
those two, and it was published at least ``retain_seconds`` ago (15 minutes by default) — so a
serving process that has not yet switched (see :class:`~recommender.ModelHandle`, which checks
``current`` every second by default) keeps its files for longer than it can lag. Leftovers of a killed
writer (``versions/.tmp-*``, ``.current.*``) are ignored by readers and deleted once
untouched for ``stale_after`` seconds (an hour: a concurrent writer is left alone). If
writers prune the version a reader is reading, :func:`read` starts again from the new
``current``. A loaded model needs no files (arrays in memory, or mapped: POSIX mappings
outlive their files).

Nothing is unpickled: arrays load with ``allow_pickle=False``, after their ``.npy`` header is
checked to describe exactly the bytes of the file (a header cannot make a load allocate or map
more than the file holds); JSON ``NaN`` and ``Infinity`` are refused; manifest file names must
be plain names of regular files (no symbolic links) in the version directory. A missing,
truncated or altered file raises :class:`~recommender.exceptions.CorruptArtifactError`
naming it; an unknown format :class:`~recommender.exceptions.IncompatibleArtifactError`;
a failed write :class:`~recommender.exceptions.ArtifactError`. Sizes are always checked;
checksums read every byte (cost in ``docs/reliability.md``), ``verify=False`` skips them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import secrets
import shutil
import stat
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import ArtifactError, CorruptArtifactError, IncompatibleArtifactError, InvalidOptionError

__all__ = ["FORMAT", "FORMAT_VERSION", "RETAIN_SECONDS", "check_path", "current_version", "publish", "read",
           "read_manifest", "resolve"]

logger = logging.getLogger(__name__)

FORMAT = "recommender-model"
FORMAT_VERSION = 3
# versions this release reads: 1 (before stemming and neighbour profiles: loads as stem=False,
# neighbours=0, the behaviour of that time), 2 (article metadata as one JSON record per
# article) and 3 (the catalogue as mappable arrays). Older releases refuse version 2, whose
# vocabulary holds stems they would not produce, and version 3, whose articles they cannot find.
READABLE_VERSIONS = (1, 2, 3)
MANIFEST = "manifest.json"
CURRENT = "current"
VERSIONS = "versions"
STAGING_PREFIX = ".tmp-"
STALE_AFTER = 3600.0
RETAIN_SECONDS = 900.0
"""Versions published less than this long ago are never pruned (readers may still be switching)."""
_NAME_TIME = "%Y%m%dT%H%M%S%fZ"  # how a version name starts: its publishing time
_READ_ATTEMPTS = 50  # a reader starts again while writers keep pruning the version it read


def check_path(path: Any, name: str = "path") -> str | os.PathLike:
    """A file-system path: a string or path-like object without NUL characters."""
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidOptionError(f"{name} must be a file path (str or os.PathLike), got {type(path).__name__}")
    text = os.fspath(path)
    if isinstance(text, bytes) or "\x00" in text:
        raise InvalidOptionError(f"{name} {text!r} is not a usable path (bytes or a NUL character)")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(
    path: str | os.PathLike,
    *,
    arrays: dict[str, np.ndarray],
    documents: dict[str, Any],
    metadata: dict[str, Any],
    keep: int = 2,
    retain_seconds: float = RETAIN_SECONDS,
    stale_after: float = STALE_AFTER,
) -> Path:
    """Write a new version of the artifact at ``path`` and make it current atomically.

    Parameters
    ----------
    path : path-like
        The model directory (created if missing).
    arrays : dict of str to ndarray
        Saved as ``<name>.npy``; numeric dtypes only (no objects).
    documents : dict of str to JSON-serialisable
        Saved as ``<name>.json``.
    metadata : dict
        Extra manifest entries (``config``, ``counts``...).
    keep : int, default=2
        Older versions kept besides the new one (and the current one), for readers still using them.
    retain_seconds : float, default=900
        Versions published less than this long ago are kept whatever ``keep`` says.
    stale_after : float, default=3600
        Seconds after which a staging directory or temporary link left by a killed
        writer is deleted.

    Returns
    -------
    pathlib.Path
        The new version's directory.

    Raises
    ------
    ArtifactError
        When the files cannot be written (the previous version stays current).
    """
    root = Path(path)
    if (root / MANIFEST).exists():
        raise ArtifactError(f"{root} is a version directory; save to the model directory that holds it")
    versions = root / VERSIONS
    created = datetime.now(timezone.utc)
    staging = versions / f"{STAGING_PREFIX}{created:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"
    try:
        versions.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as error:
        raise ArtifactError(f"{root}: cannot create a model directory here ({error})") from error
    try:
        files: dict[str, dict[str, Any]] = {}
        for key, array in arrays.items():
            array = np.asarray(array)
            if array.dtype.hasobject:
                raise TypeError(f"array {key!r} has dtype object; artifacts hold plain numeric arrays only")
            target = staging / f"{key}.npy"
            np.save(target, array, allow_pickle=False)
            files[target.name] = {}
        for key, document in documents.items():
            target = staging / f"{key}.json"
            target.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
            files[target.name] = {}
        for file_name in files:
            file_path = staging / file_name
            _fsync(file_path)
            files[file_name] = {"sha256": _sha256(file_path), "bytes": file_path.stat().st_size}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created.isoformat(),
            **metadata,
            "files": files,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _fsync(staging / MANIFEST)
        _fsync(staging)
        # named when finished, so that names sort in publishing order for pruning
        name = f"{datetime.now(timezone.utc):{_NAME_TIME}}-{secrets.token_hex(3)}"
        final = versions / name
        os.rename(staging, final)
        _fsync(versions)
        link = root / f".{CURRENT}.{secrets.token_hex(4)}"
        os.symlink(Path(VERSIONS) / name, link)
        os.replace(link, root / CURRENT)
        _fsync(root)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError) and not isinstance(error, ArtifactError):
            raise ArtifactError(f"{root}: cannot publish a new version ({error})") from error
        raise
    try:
        _prune(root, new=name, keep=keep, retain_seconds=retain_seconds, stale_after=stale_after)
    except OSError as error:  # the new version is current; only housekeeping failed
        logger.warning("%s: could not prune old versions (%s)", root, error)
    return final


def published_at(version: Path) -> float:
    """Epoch seconds at which a version was published: from its name, else its directory's mtime."""
    try:
        stamp = datetime.strptime(version.name.split("-", 1)[0], _NAME_TIME).replace(tzinfo=timezone.utc)
    except ValueError:
        return version.lstat().st_mtime
    return stamp.timestamp()


def _prune(root: Path, *, new: str, keep: int, retain_seconds: float, stale_after: float,
           now: float | None = None) -> None:
    """Delete finished versions beyond the retention rule (module docstring) and what killed
    writers left behind; ``now`` (epoch seconds) is the current time."""
    now = time.time() if now is None else now
    versions = root / VERSIONS
    try:
        live = Path(os.readlink(root / CURRENT)).name  # a concurrent writer may have switched already
    except OSError:
        live = new
    finished = sorted(p.name for p in versions.iterdir() if not p.name.startswith(".") and p.name not in (new, live))
    stale = [versions / old for old in finished[: max(0, len(finished) - keep)]
             if now - published_at(versions / old) >= retain_seconds]
    deadline = now - stale_after
    for entry in [*versions.glob(f"{STAGING_PREFIX}*"), *root.glob(f".{CURRENT}.*")]:
        try:  # staging directories count as touched when any of their files was
            touched = max([entry.lstat().st_mtime, *(e.lstat().st_mtime for e in entry.iterdir())]
                          if entry.is_dir() and not entry.is_symlink() else [entry.lstat().st_mtime])
        except OSError:  # gone meanwhile: its writer finished, or another writer cleaned it
            continue
        if touched < deadline:
            stale.append(entry)
    for entry in stale:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def current_version(path: str | os.PathLike) -> str | None:
    """The name of the version ``current`` points to, by one ``readlink`` (cheap enough to
    call on every request); for a version directory, its own name; ``None`` when neither."""
    root = Path(path)
    try:
        return Path(os.readlink(root / CURRENT)).name
    except OSError:
        return root.name if (root / MANIFEST).exists() else None


def resolve(path: str | os.PathLike) -> Path:
    """The version directory a model path stands for (its ``current`` version, or itself)."""
    root = Path(path)
    if (root / CURRENT).exists():
        return (root / CURRENT).resolve()
    if (root / CURRENT).is_symlink():
        raise CorruptArtifactError(f"{root / CURRENT}: points to {os.readlink(root / CURRENT)}, which is missing")
    if (root / MANIFEST).exists():
        return root
    if not root.exists():
        raise CorruptArtifactError(f"{root}: no such model directory")
    raise CorruptArtifactError(f"{root}: not a model directory (no {CURRENT} link and no {MANIFEST})")


def _regular_file(file_path: Path) -> None:
    """Refuse anything but a regular file: a symbolic link, a FIFO or a device could point
    outside the model, block the reader or never end."""
    try:
        mode = file_path.lstat().st_mode
    except OSError as error:
        missing = isinstance(error, FileNotFoundError)
        raise CorruptArtifactError(f"{file_path}: {'missing' if missing else f'unreadable ({error})'}") from None
    if stat.S_ISLNK(mode):
        raise CorruptArtifactError(f"{file_path}: is a symbolic link; a model version holds plain files only")
    if not stat.S_ISREG(mode):
        raise CorruptArtifactError(f"{file_path}: not a regular file")


def _no_constant(name: str) -> None:
    """JSON has no NaN or Infinity; Python's reader accepts them, a model never writes them."""
    raise ValueError(f"{name} is not a JSON value")


def _manifest(directory: Path) -> dict[str, Any]:
    _regular_file(directory / MANIFEST)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise CorruptArtifactError(f"{directory / MANIFEST}: not valid JSON ({type(error).__name__})") from None
    except OSError as error:
        raise CorruptArtifactError(f"{directory / MANIFEST}: unreadable ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise CorruptArtifactError(f"{directory / MANIFEST}: not a {FORMAT} manifest")
    if manifest.get("format_version") not in READABLE_VERSIONS:
        raise IncompatibleArtifactError(
            f"{directory}: format version {manifest.get('format_version')!r}; this release reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    return manifest


def read(path: str | os.PathLike, *, mmap: bool = False, verify: bool = True) -> tuple[dict, dict, dict]:
    """Read the current version of an artifact.

    Parameters
    ----------
    path : path-like
        A model directory (or one version directory).
    mmap : bool, default=False
        Memory-map the arrays read-only instead of reading them into memory, so that
        worker processes share one copy through the page cache.
    verify : bool, default=True
        Check every file's SHA-256 against the manifest (sizes are always checked).

    Returns
    -------
    manifest : dict
        With ``version`` added: the name of the version directory read.
    arrays : dict of str to ndarray
    documents : dict of str to object

    Raises
    ------
    CorruptArtifactError
        Naming the file that is missing, truncated, altered or unreadable.
    IncompatibleArtifactError
        For a format version this release does not read.
    """
    for attempt in range(_READ_ATTEMPTS):
        directory = resolve(path)
        try:
            manifest, arrays, documents = _read_version(directory, mmap=mmap, verify=verify)
            return {**manifest, "version": directory.name}, arrays, documents
        except CorruptArtifactError:
            # Writers may have pruned the version while we read it: start again from the new
            # current version. A damaged version that is still current is reported.
            try:
                moved_on = Path(path, CURRENT).is_symlink() and resolve(path) != directory
            except CorruptArtifactError:
                moved_on = False
            if attempt + 1 == _READ_ATTEMPTS or not moved_on:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _check_npy_header(file_path: Path) -> None:
    """Refuse a ``.npy`` file whose header does not describe exactly the bytes that follow it:
    a header claiming 10**11 items would otherwise allocate (or map) that much before failing."""
    with open(file_path, "rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise CorruptArtifactError(f"{file_path}: unsupported .npy version {version}")
        data_offset = handle.tell()
    if dtype.hasobject or dtype.itemsize == 0:
        raise CorruptArtifactError(f"{file_path}: holds {dtype} items; a model holds plain numeric arrays")
    expected = data_offset + math.prod(shape) * dtype.itemsize
    actual = file_path.stat().st_size
    if expected != actual:
        raise CorruptArtifactError(f"{file_path}: header describes {expected:,} bytes, the file has {actual:,}")


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a version directory (see :func:`resolve`), checked for its format only."""
    return _manifest(Path(directory))


def _read_version(directory: Path, *, mmap: bool, verify: bool) -> tuple[dict, dict, dict]:
    manifest = _manifest(directory)
    arrays: dict[str, np.ndarray] = {}
    documents: dict[str, Any] = {}
    for file_name, facts in manifest["files"].items():
        if not isinstance(file_name, str) or Path(file_name).name != file_name or file_name.startswith("."):
            raise CorruptArtifactError(f"{directory / MANIFEST}: file name {file_name!r} is not a plain name in the model")
        file_path = directory / file_name
        key, _, suffix = file_name.rpartition(".")
        try:
            _regular_file(file_path)
            if not isinstance(facts, dict) or file_path.stat().st_size != facts.get("bytes"):
                raise CorruptArtifactError(f"{file_path}: size differs from the manifest (truncated or replaced)")
            if verify and _sha256(file_path) != facts.get("sha256"):
                raise CorruptArtifactError(f"{file_path}: checksum mismatch (the file was altered or damaged)")
            if suffix == "npy":
                _check_npy_header(file_path)
                array = np.load(file_path, mmap_mode="r" if mmap else None, allow_pickle=False)
                # a plain ndarray view of the mapping: np.memmap's Python-level indexing hooks
                # cost microseconds on every slice, and the view keeps the mapping alive
                arrays[key] = array.view(np.ndarray) if isinstance(array, np.memmap) else array
            elif suffix == "json":
                documents[key] = json.loads(file_path.read_text(encoding="utf-8"), parse_constant=_no_constant)
            else:
                raise CorruptArtifactError(f"{file_path}: unexpected file type (a model holds .npy and .json files)")
        except CorruptArtifactError:
            raise
        except (ValueError, OSError, EOFError, UnicodeDecodeError, RecursionError) as error:
            raise CorruptArtifactError(f"{file_path}: unreadable ({type(error).__name__}: {error})") from None
    return manifest, arrays, documents
