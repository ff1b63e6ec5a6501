"""Attachment bytes on disk, one file per content hash.

Files are written once (tmp file, then rename), mode 0600, under
``<attachments_dir>/<aa>/<sha256>``. Writing the same bytes again does
nothing, so a message ingested twice (a retry after a crash) costs no space
and a half-written file never takes the final name.

One level of 256 folders. The earlier ``<aa>/<bb>/<sha256>`` layout gave
nearly every file of a store of a few thousand a folder of its own, so each
attachment of a first sync cost a directory creation: on the benchmark's
machine (``benchmarks/sync_first_run.py``) 2,000 of them took the kernel
longer than parsing the 2,000 messages. Files stored under that layout are
still found (:func:`stored_blob_path`). There is no fsync: the raw
message (``MessageRaw``) is committed in the database, so an attachment lost to
a power cut can be extracted again; a killed process loses nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def blob_path(root: Path, sha256: str) -> Path:
    """Where the bytes with this hash are written; refuses anything that is not a hex digest."""
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return root / sha256[:2] / sha256


def _legacy_blob_path(root: Path, sha256: str) -> Path:
    """Where the earlier two-level layout put them (a store written before the change)."""
    return root / sha256[:2] / sha256[2:4] / sha256


def stored_blob_path(root: Path, sha256: str) -> Path:
    """Where the bytes with this hash are: :func:`blob_path`, or the earlier layout's place.

    A file in neither gives :func:`blob_path` (opening it then fails as expected).
    """
    path = blob_path(root, sha256)
    if path.exists():
        return path
    legacy = _legacy_blob_path(root, sha256)
    return legacy if legacy.exists() else path


def store_blob(root: Path, data: bytes) -> str:
    """Write ``data`` under ``root`` by its sha256 (if not there yet) and return the digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(root, digest)
    if path.exists() or _legacy_blob_path(root, digest).exists():
        return digest
    tmp = path.parent / f".{digest}.{os.getpid()}.tmp"
    fd = _create(root, tmp)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written file behind
        raise
    return digest


#: Folders this process has made (or found) with mode 0700, so each is made once.
_MADE: set[Path] = set()


def _create(root: Path, tmp: Path) -> int:
    """Open ``tmp`` for writing, mode 0600, making its folders first.

    A folder remembered as made but removed since (by hand, or a cleanup) is
    made again: the first attempt then fails, the folders are forgotten, and
    the second attempt makes them.
    """
    folder = tmp.parent
    try:
        _private_dirs(root, folder)
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except FileNotFoundError:
        _MADE.difference_update((root, folder))
    _private_dirs(root, folder)
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def _private_dirs(root: Path, folder: Path) -> None:
    """Create ``root`` and the hash folder ``folder`` in it (:func:`blob_path`), each mode 0700.

    ``mkdir(parents=True, mode=...)`` gives the parents the umask's mode (0777
    under a loose umask), so each level is made, and tightened, here. Levels
    made earlier in the process are not made again (see :func:`_create`).
    """
    if folder in _MADE:
        return
    if root not in _MADE:
        root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the workspace's data folder
    for level in (root, folder):
        if level in _MADE:
            continue
        try:
            level.mkdir(mode=0o700)
        except FileExistsError:
            pass
        else:
            os.chmod(level, 0o700)  # mkdir's mode is filtered by the umask
        _MADE.add(level)


def read_blob(root: Path, sha256: str) -> bytes:
    """The bytes stored under this hash."""
    return stored_blob_path(root, sha256).read_bytes()
