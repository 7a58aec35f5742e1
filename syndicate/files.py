"""Files on disk: content read only inside its folder and as UTF-8; what the admin API writes, never through a link
and whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from syndicate.problems import ProblemList


class NotAFile(OSError):
    """The path is a symbolic link or something else than a regular file: never read or written
    through (the loader refuses such a file too, so the admin API must not show or change what it points at)."""


def read_regular_file(path: Path, limit: int) -> bytes | None:
    """At most ``limit`` bytes of ``path``; None when there is no such file. Raises ``NotAFile`` for a
    symbolic link (never followed) or anything but a regular file (a FIFO would block the reader)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise NotAFile(errno.ELOOP, "is a symbolic link", str(path)) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotAFile(errno.EINVAL, "is not a regular file", str(path))
        return handle.read(limit)


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write to a hidden temporary file beside ``path`` (the loader and watcher skip dot files), then rename."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the platform allows
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def decoded_text(path: Path, data: bytes, limit: int, problems: ProblemList) -> str | None:
    """A body sent for ``path`` as text, or None with the error recorded: over ``limit`` bytes or not UTF-8."""
    if len(data) > limit:
        problems.error(path, 0, f"file is {len(data)} bytes, over the {limit}-byte limit")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.error(path, data.count(b"\n", 0, exc.start) + 1, f"not valid UTF-8 (at byte offset {exc.start})")
        return None


@dataclass(frozen=True, slots=True)
class ResolvedFolder:
    """Whether a folder's real path lies inside the content root, resolved once for all the files read from
    it: resolving each file's own path stats every component of it, most of the cost of reading a small file."""

    folder: Path
    inside: bool

    @classmethod
    def of(cls, folder: Path, root: Path) -> ResolvedFolder:
        return cls(folder, Path(os.path.realpath(folder)).is_relative_to(root.resolve()))


def read_text(
    path: Path, root: Path, problems: ProblemList, limit: int, within: ResolvedFolder | None = None
) -> str | None:
    """A content file's text, or None with a problem: outside ``root``, too large, not UTF-8.

    ``within``: ``path``'s folder, already resolved; a regular file in it (no link) is then read without
    resolving its path again (its real path is the folder's and its name)."""
    if within is not None and within.inside and path.parent == within.folder:
        try:
            info = os.lstat(path)
        except OSError:
            info = None
        if info is not None and stat.S_ISREG(info.st_mode):
            if info.st_size > limit:
                problems.error(path, 0, f"file is {info.st_size} bytes, over the {limit}-byte limit; skipped")
                return None
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                problems.error(path, 0, f"cannot read: {exc.strerror or exc}")
                return None
            return _decoded(path, data, problems)
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(root.resolve()):
            problems.error(path, 0, "points outside the content folder (symlink?); skipped")
            return None
        size = real.stat().st_size
        if size > limit:
            problems.error(path, 0, f"file is {size} bytes, over the {limit}-byte limit; skipped")
            return None
        data = real.read_bytes()
    except OSError as exc:
        problems.error(path, 0, f"cannot read: {exc.strerror or exc}")
        return None
    return _decoded(path, data, problems)


def _decoded(path: Path, data: bytes, problems: ProblemList) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.error(path, line, f"not valid UTF-8 (at byte offset {exc.start}); skipped")
        return None
