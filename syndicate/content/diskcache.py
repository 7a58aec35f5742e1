"""Parsed articles kept on disk (``<paths.data>/parsecache/``), so a restart parses only what changed.

One file per feed folder: a magic line, the BLAKE2b digest of the rest, the length of an index, the index
(the key, the file names and the size of each one's record), then the records one after another, each
plain values written with ``marshal`` (never pickle, which runs whatever code a file names). No step
reads, encodes or copies a whole file in one call: a file runs to tens of MB (60 MB for a folder of
10,000 articles), and one ``marshal`` call over it held the GIL, so stalled the event loop, ~50 ms.
A file is used only when its digest
matches (not cut short, not corrupted) and its key is the current one: this code's version (a hash of
the package's sources, the Python version and the versions of the libraries a parse runs), the folder,
and every parse input (``ArticleInputs``). Anything else, or a value that does not decode, leaves the
folder to be parsed afresh; a cache file is never needed, only used.

A record taken from a file is trusted as ``ParseCache`` trusts its own: the file's stat (inode, size,
mtime, ctime) unchanged and settled; else the file is read and hashed, and parsed again unless the text
hash matches. Files are written after a build, in a background thread, only for folders whose records
changed: each to a temporary file, then renamed over the old one. Records already encoded (a first start's
worker processes encode what they parse) are copied, not encoded again.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import hashlib
import hmac
import importlib.metadata
import logging
import marshal
import os
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from syndicate import collector
from syndicate.content.parsecache import ArticleInputs, FolderParses, Parsed
from syndicate.content.records import MARSHAL_VERSION, record_bytes, record_of
from syndicate.memory import release_freed

log = logging.getLogger("syndicate.parsecache")

MAGIC = b"syndicate parse cache 2\n"
DIGEST_BYTES = 32
SUFFIX = ".cache"
SPOOL_SUFFIX = ".spool.tmp"  # records a first start's workers encoded, until their folder's file is written
INDEX_LENGTH = struct.Struct("<Q")
#: Records are copied into the file this many bytes at a time: each copy holds the GIL (a 1 MB copy took
#: 0.2 ms, at times 2 ms, here; 256 KB at most 0.06 ms).
CHUNK_BYTES = 1 << 18
WRITE_DELAY = 10.0  # seconds from a build to the write of what it changed
EXIT_WAIT = 30.0  # at most this long at exit for a pending write; what is not written is parsed next start
STALE_TEMP = 600.0  # a temporary file older than this is a killed writer's
#: The libraries whose output a parse keeps: a new version of any of them may parse differently.
PARSE_LIBRARIES = ("nh3", "markdown-it-py", "lxml", "PyYAML")


@functools.cache
def code_version() -> str:
    """A digest of everything besides the files and inputs that decides a parse: this package's sources,
    the Python version and the parse libraries' versions."""
    digest = hashlib.blake2b(digest_size=16)
    package = Path(__file__).resolve().parent.parent
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode() + b"\0" + source.read_bytes() + b"\0")
    digest.update(sys.version.encode())
    for name in PARSE_LIBRARIES:
        digest.update(f"\0{name}={importlib.metadata.version(name)}".encode())
    return digest.hexdigest()


def cache_key(folder: Path, inputs: ArticleInputs) -> str:
    """What a folder's file must have been written under to be used now."""
    values = (
        sorted(value) if isinstance(value, frozenset) else str(value)
        for value in (getattr(inputs, f.name) for f in dataclasses.fields(inputs))
    )
    return repr((code_version(), str(folder), *values))


class DiskCache:
    """Reads and writes one folder's parses per file under ``folder``.

    Writes wait ``delay`` seconds after the build that asked for them, so a burst of edits is written once
    and the write stays out of the moment an edit goes live. Rewriting a folder's file encodes only the
    records that changed since it was written; the others are copied from the file as it is (nothing is
    kept in memory but which records it holds). A write not done when the process ends is simply missing:
    the next start parses those articles."""

    def __init__(self, folder: Path, delay: float = WRITE_DELAY) -> None:
        self.folder = folder
        self.delay = delay
        self._lock = threading.Lock()
        self._latest: dict[Path, FolderParses] | None = None  # the state to write next
        self._wake = threading.Event()  # write now
        self._idle = threading.Event()  # nothing left to write
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._files: dict[Path, dict[str, Parsed]] = {}  # by feed folder: the records its file holds
        self._records: dict[Path, dict[str, Parsed]] = {}  # the records dict each file was last written from
        #: By feed folder: records encoded elsewhere (``spool``), each with where its bytes lie in the spool file.
        self._spooled: dict[Path, dict[str, _Spooled]] = {}
        self.loaded = 0  # records read from disk
        self.rejected = 0  # files not used: corrupt, cut short, or written under another key
        atexit.register(self.wait, EXIT_WAIT)

    def path_of(self, feed_folder: Path) -> Path:
        return self.folder / (feed_folder.name + SUFFIX)

    def load(self, feed_folders: Iterable[Path], inputs: ArticleInputs) -> dict[Path, dict[str, Parsed]]:
        """Each folder's records as its file holds them, for folders whose file is intact and current."""
        found: dict[Path, dict[str, Parsed]] = {}
        with collector.paused():  # millions of new objects, none of them garbage: collections would only walk them
            for feed_folder in feed_folders:
                records = self._read(feed_folder, inputs)
                if records is not None:
                    found[feed_folder] = self._files[feed_folder] = self._records[feed_folder] = records
                    self.loaded += len(records)
        return found

    def _read(self, feed_folder: Path, inputs: ArticleInputs) -> dict[str, Parsed] | None:
        path = self.path_of(feed_folder)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("parse cache %s unreadable (%s); parsing the folder afresh", path, exc)
            return None
        records = _decoded(data, cache_key(feed_folder, inputs), feed_folder, inputs)
        if records is None:
            self.rejected += 1
            log.info("parse cache %s is stale or damaged; parsing the folder afresh", path)
        return records

    def spool_path(self, feed_folder: Path) -> Path:
        return self.folder / f".{feed_folder.name}{SPOOL_SUFFIX}"

    def spool(self, feed_folder: Path, encoded: bytes, records: Iterable[tuple[str, Parsed, int]]) -> None:
        """Keep records already encoded elsewhere (a first start's workers: ``encoded`` holds them one after
        another, each ``(name, record, size)``) in a file beside the cache, until the write copies them from
        there instead of encoding them again. Encoding holds the GIL: at 100,000 articles, seconds of work
        that stalled the event loop while the first requests came in. A spool not written costs nothing but
        that: the write encodes."""
        path = self.spool_path(feed_folder)
        with self._lock:
            known = self._spooled.get(feed_folder)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                with path.open("ab" if known is not None else "wb") as handle:  # a killed process's spool: gone
                    start = handle.tell()
                    handle.write(encoded)
            except OSError as exc:
                log.warning("parse cache spool %s not written (%s); its records are encoded again", path, exc)
                return
            known = self._spooled.setdefault(feed_folder, {})
            for name, record, size in records:
                known[name] = _Spooled(record, start, size)
                start += size

    def save(self, kept: dict[Path, FolderParses]) -> None:
        """Write, in the background after ``delay``, the files of the folders whose records changed."""
        with self._lock:
            self._latest = dict(kept)
            self._idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="parsecache", daemon=True)
                self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Write what is pending now, and return when it is written (or after ``timeout`` seconds)."""
        self._wake.set()
        self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.delay)
            with self._lock:
                state, self._latest = self._latest, None
                self._wake.clear()
            try:
                if state is not None:
                    self._write_changed(state)
                    release_freed()  # the encoded files were as large as the folders they hold
            except Exception:  # never leave the writer dead with a write pending: the next save retries
                log.exception("parse cache not written to %s", self.folder)
            with self._lock:
                if self._latest is None:
                    self._thread = None
                    self._idle.set()
                    return

    def _write_changed(self, kept: dict[Path, FolderParses]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for feed_folder, parses in kept.items():
                if self._records.get(feed_folder) is parses.records:
                    continue  # the very dict last written: nothing in the folder was read again
                before = self._files.get(feed_folder, {})
                if before.keys() != parses.records.keys() or any(
                    before[name] is not record for name, record in parses.records.items()
                ):
                    self._files[feed_folder] = self._write(feed_folder, parses, before)
                self._records[feed_folder] = parses.records
            with self._lock:
                gone = self._spooled.keys() - kept.keys()  # folders removed before their first write
            for feed_folder in gone:
                self._drop_spool(feed_folder)
            self._remove_others({self.path_of(f) for f in kept})
        except OSError as exc:  # a full disk, a read-only data folder: the server runs on, parsing at start
            log.warning("parse cache not written to %s (%s)", self.folder, exc)

    def _write(self, feed_folder: Path, parses: FolderParses, before: dict[str, Parsed]) -> dict[str, Parsed]:
        path = self.path_of(feed_folder)
        wanted = cache_key(feed_folder, parses.inputs)
        on_disk = _blobs(_bytes_of(path), wanted) if before else None
        spooled = self._spooled_blobs(feed_folder)
        written: dict[str, Parsed] = {}
        sizes: list[int] = []
        chunks = _Chunks()
        for name, record in parses.records.items():
            blob: bytes | memoryview | None = None
            if on_disk is not None and before.get(name) is record:
                blob = on_disk.get(name)
            if blob is None and (found := spooled.get(name)) is not None and found[0] is record:
                blob = found[1]  # encoded by a worker from this very record
            if blob is None:
                blob = record_bytes(feed_folder, name, record)
            if blob is not None:
                written[name] = record
                sizes.append(len(blob))
                chunks.add(blob)
        index = marshal.dumps((wanted, tuple(written), tuple(sizes)), MARSHAL_VERSION)
        pieces = [INDEX_LENGTH.pack(len(index)), index, *chunks.done()]
        digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
        for piece in pieces:
            digest.update(piece)
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC + digest.digest())
                handle.writelines(pieces)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        self._drop_spool(feed_folder)  # used, or not as written: either way done with
        return written

    def _spooled_blobs(self, feed_folder: Path) -> dict[str, tuple[Parsed, memoryview]]:
        """The folder's spooled records with their encodings; none when its spool is not as it was written."""
        with self._lock:
            spooled = dict(self._spooled.get(feed_folder, {}))
        if not spooled:
            return {}
        path = self.spool_path(feed_folder)
        data = memoryview(_bytes_of(path))
        if len(data) != max(s.start + s.size for s in spooled.values()):
            log.warning("parse cache spool %s is not as written; encoding its records again", path)
            return {}
        return {name: (s.record, data[s.start : s.start + s.size]) for name, s in spooled.items()}

    def _drop_spool(self, feed_folder: Path) -> None:
        with self._lock:
            if self._spooled.pop(feed_folder, None) is None:
                return
        with contextlib.suppress(OSError):
            self.spool_path(feed_folder).unlink()

    def _remove_others(self, keep: set[Path]) -> None:
        """Files of folders the last build no longer has, and temporary files a killed writer left."""
        stale = time.time() - STALE_TEMP
        with self._lock:
            spools = {self.spool_path(folder) for folder in self._spooled}
        for path in self.folder.iterdir():
            hidden = path.name.startswith(".") and path.name.endswith(".tmp") and path not in spools
            leftover = hidden and _mtime(path) < stale
            if leftover or (path.suffix == SUFFIX and path not in keep):
                with contextlib.suppress(OSError):
                    path.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _bytes_of(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


class _Spooled(NamedTuple):
    """A record encoded elsewhere: the very object decoded from it, and where its bytes lie in the spool."""

    record: Parsed
    start: int
    size: int


class _Chunks:
    """Records joined into pieces of about ``CHUNK_BYTES``: a few writes, and no copy of the whole file."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.pending: list[bytes | memoryview] = []
        self.size = 0

    def add(self, blob: bytes | memoryview) -> None:
        self.pending.append(blob)
        self.size += len(blob)
        if self.size >= CHUNK_BYTES:
            self.pieces.append(b"".join(self.pending))
            self.pending, self.size = [], 0

    def done(self) -> list[bytes]:
        if self.pending:
            self.pieces.append(b"".join(self.pending))
            self.pending, self.size = [], 0
        return self.pieces


def _blobs(data: bytes, wanted: str) -> dict[str, memoryview] | None:
    """Each record's encoding by file name (a view into ``data``, not a copy), when ``data`` is an intact file
    written under ``wanted``. The digest is computed with the GIL released; only the index is decoded."""
    start = len(MAGIC) + DIGEST_BYTES
    if not data.startswith(MAGIC) or len(data) < start + INDEX_LENGTH.size:
        return None
    body = memoryview(data)[start:]
    if not hmac.compare_digest(hashlib.blake2b(body, digest_size=DIGEST_BYTES).digest(), data[len(MAGIC) : start]):
        return None
    (length,) = INDEX_LENGTH.unpack_from(body)
    position = INDEX_LENGTH.size + length
    try:
        written, names, sizes = marshal.loads(body[INDEX_LENGTH.size : position])
    except (ValueError, TypeError, EOFError):
        return None
    if written != wanted or not isinstance(names, tuple) or not isinstance(sizes, tuple) or len(names) != len(sizes):
        return None
    blobs: dict[str, memoryview] = {}
    for name, size in zip(names, sizes, strict=True):
        if not isinstance(name, str) or not isinstance(size, int) or size < 0:
            return None
        blobs[name] = body[position : position + size]
        position += size
    return blobs if position == len(body) else None


def _decoded(data: bytes, wanted: str, feed_folder: Path, inputs: ArticleInputs) -> dict[str, Parsed] | None:
    blobs = _blobs(data, wanted)
    if blobs is None:
        return None
    try:
        records: dict[str, Parsed] = {}
        for name, blob in blobs.items():
            written_as, records[name] = record_of(blob, feed_folder, inputs)
            if written_as != name:
                return None
        return records
    except (ValueError, TypeError, EOFError, KeyError, IndexError):  # a well-formed file of another shape
        return None
