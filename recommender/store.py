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

How publishing works: a new version is written into a hidden temporary directory, every
file is flushed to disk, the directory is renamed into ``versions/``, and only then is
``current`` switched with one atomic :func:`os.replace` of a symbolic link. A reader that
resolved ``current`` keeps reading its version; a writer killed at any moment leaves either
the old or the new version current, never a mix. Older versions beyond ``keep`` are pruned.

Nothing is unpickled: arrays load with ``allow_pickle=False`` and file names in a manifest
must be plain names inside the version directory. A missing, truncated or altered file
raises :class:`~recommender.exceptions.CorruptArtifactError` naming it; an unknown
format version :class:`~recommender.exceptions.IncompatibleArtifactError`. Verifying
checksums reads every byte once (about 1 GB/s); ``verify=False`` skips it for trusted,
memory-mapped loads.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import ArtifactError, CorruptArtifactError, IncompatibleArtifactError

__all__ = ["FORMAT", "FORMAT_VERSION", "publish", "read", "resolve"]

FORMAT = "recommender-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "current"
VERSIONS = "versions"


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
        Older versions kept besides the new one, for readers still using them.

    Returns
    -------
    pathlib.Path
        The new version's directory.
    """
    root = Path(path)
    if (root / MANIFEST).exists():
        raise ArtifactError(f"{root} is a version directory; save to the model directory that holds it")
    versions = root / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    created = datetime.now(timezone.utc)
    name = f"{created:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"
    staging = versions / f".tmp-{name}"
    staging.mkdir()
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
        final = versions / name
        os.rename(staging, final)
        _fsync(versions)
        link = root / f".{CURRENT}.{secrets.token_hex(4)}"
        os.symlink(Path(VERSIONS) / name, link)
        os.replace(link, root / CURRENT)
        _fsync(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(versions, current=name, keep=keep)
    return final


def _prune(versions: Path, *, current: str, keep: int) -> None:
    finished = sorted(p.name for p in versions.iterdir() if not p.name.startswith(".") and p.name != current)
    for old in finished[: max(0, len(finished) - keep)]:
        shutil.rmtree(versions / old, ignore_errors=True)


def resolve(path: str | os.PathLike) -> Path:
    """The version directory a model path stands for (its ``current`` version, or itself)."""
    root = Path(path)
    if (root / CURRENT).exists():
        return (root / CURRENT).resolve()
    if (root / MANIFEST).exists():
        return root
    if not root.exists():
        raise CorruptArtifactError(f"{root}: no such model directory")
    raise CorruptArtifactError(f"{root}: not a model directory (no {CURRENT} link and no {MANIFEST})")


def _manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptArtifactError(f"{directory / MANIFEST}: missing") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise CorruptArtifactError(f"{directory / MANIFEST}: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise CorruptArtifactError(f"{directory / MANIFEST}: not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IncompatibleArtifactError(
            f"{directory}: format version {manifest.get('format_version')!r}; this release reads version {FORMAT_VERSION}"
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
        Check every file's size and SHA-256 against the manifest.

    Returns
    -------
    manifest : dict
    arrays : dict of str to ndarray
    documents : dict of str to object

    Raises
    ------
    CorruptArtifactError
        Naming the file that is missing, truncated, altered or unreadable.
    IncompatibleArtifactError
        For a format version this release does not read.
    """
    directory = resolve(path)
    manifest = _manifest(directory)
    arrays: dict[str, np.ndarray] = {}
    documents: dict[str, Any] = {}
    for file_name, facts in manifest["files"].items():
        if not isinstance(file_name, str) or Path(file_name).name != file_name or file_name.startswith("."):
            raise CorruptArtifactError(f"{directory / MANIFEST}: file name {file_name!r} is not a plain name in the model")
        file_path = directory / file_name
        if not file_path.is_file():
            raise CorruptArtifactError(f"{file_path}: missing")
        if verify:
            if not isinstance(facts, dict) or file_path.stat().st_size != facts.get("bytes"):
                raise CorruptArtifactError(f"{file_path}: size differs from the manifest (truncated or replaced)")
            if _sha256(file_path) != facts.get("sha256"):
                raise CorruptArtifactError(f"{file_path}: checksum mismatch (the file was altered or damaged)")
        key, suffix = file_name.rsplit(".", 1) if "." in file_name else (file_name, "")
        try:
            if suffix == "npy":
                arrays[key] = np.load(file_path, mmap_mode="r" if mmap else None, allow_pickle=False)
            elif suffix == "json":
                documents[key] = json.loads(file_path.read_text(encoding="utf-8"))
            else:
                raise CorruptArtifactError(f"{file_path}: unexpected file type")
        except (ValueError, OSError, EOFError, UnicodeDecodeError) as error:
            raise CorruptArtifactError(f"{file_path}: unreadable ({error})") from None
    return manifest, arrays, documents
