"""A first build's articles parsed in worker processes, one per core, when there are many of them.

One core parses about a thousand articles a second; a large site's first start (no parse cache on disk
yet) has a hundred thousand to parse. Only a build with no parses of its own to start from, at least
``PARALLEL_MIN`` article files that the disk cache holds no record of, and no other thread running (the
workers are forked) uses workers: small sites, tests and every later build stay in one process.

Each worker reads and parses a share of a folder's files exactly as the loader would (``ParseCache.load``:
stat, time of reading, text hash, the problems each parse reported) and sends the records back in the disk
cache's encoding, which the disk cache later writes as it is (``DiskCache.spool``). The build seeds its
``ParseCache`` with them and walks the folders as usual, taking each record as it takes one from disk: so
the articles, the problems (file, line and order) and every check after the walk are those of a build in
one process. A file that changed since its worker read it is read and parsed again; a worker that fails
leaves its files to the build itself.
"""

from __future__ import annotations

import concurrent.futures
import gc
import logging
import multiprocessing
import os
import threading
from pathlib import Path

from syndicate import collector
from syndicate.config import Config, load_config
from syndicate.content.diskcache import DiskCache
from syndicate.content.loader import ALL_FEED, FEED_FILE, FEED_NAME, ContentLoader, article_inputs, article_names
from syndicate.content.parsecache import ArticleInputs, ParseCache, Parsed
from syndicate.content.records import record_bytes, record_of
from syndicate.files import ResolvedFolder
from syndicate.problems import ProblemList

log = logging.getLogger("syndicate.firstparse")

#: Below this many files to parse, starting workers (a fork each, a config read each) is not worth it.
PARALLEL_MIN = 2_000
#: Files per task: small enough to share out evenly, large enough that sending one costs little.
SHARE = 250

Records = dict[Path, dict[str, Parsed]]


def parse_in_workers(
    config: Config, inputs: ArticleInputs, folders: list[Path], kept: Records, disk: DiskCache | None = None
) -> tuple[Records, int]:
    """``kept`` (the records from disk) with records for the files it lacks, parsed in worker processes
    when there are at least ``PARALLEL_MIN`` of them; and how many files the workers parsed. ``disk``, when
    parses are kept on disk, is handed the workers' encodings, so that writing them encodes nothing again."""
    shares = [
        (folder, names[start : start + SHARE])
        for folder, names in _unrecorded(folders, kept)
        for start in range(0, len(names), SHARE)
    ]
    if sum(len(names) for _, names in shares) < PARALLEL_MIN or not _alone():
        return kept, 0
    workers = min(os.cpu_count() or 1, len(shares))
    found: Records = {folder: dict(records) for folder, records in kept.items()}
    parsed = 0
    try:
        with collector.paused():  # hundreds of thousands of new objects, none of them garbage
            fork = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(
                workers, mp_context=fork, initializer=_start_worker, initargs=(config.path, inputs)
            ) as pool:
                tasks = {pool.submit(_parse_share, str(folder), names): folder for folder, names in shares}
                for task in concurrent.futures.as_completed(tasks):
                    folder = tasks[task]
                    blob, sizes, count = task.result()
                    _take(found.setdefault(folder, {}), folder, inputs, blob, sizes, disk)
                    parsed += count
    except Exception:  # never fatal: the build parses what the workers did not
        log.exception("parsing in worker processes failed; parsing in this one")
    return found, parsed


def _take(
    records: dict[str, Parsed],
    folder: Path,
    inputs: ArticleInputs,
    blob: bytes,
    sizes: list[int],
    disk: DiskCache | None,
) -> None:
    """One share's records, encoded one after another in ``blob``, decoded into ``records``."""
    view, position, spooled = memoryview(blob), 0, []
    for size in sizes:
        name, record = record_of(view[position : position + size], folder, inputs)
        records[name] = record
        spooled.append((name, record, size))
        position += size
    if disk is not None:
        disk.spool(folder, blob, spooled)


def _unrecorded(folders: list[Path], kept: Records) -> list[tuple[Path, list[str]]]:
    """Per folder the loader will walk (and may cache), its article files without a record."""
    missing = []
    for folder in folders:
        if not FEED_NAME.fullmatch(folder.name) or folder.name == ALL_FEED or folder.is_symlink():
            continue
        if not (folder / FEED_FILE).is_file():
            continue
        records = kept.get(folder, {})
        names = [name for name in article_names(folder) if name not in records]
        if names:
            missing.append((folder, names))
    return missing


def _alone() -> bool:
    """Whether this process runs no other thread, so that forking it is safe (a forked child could
    inherit a lock another thread holds): the usual first start, with nothing but the build running yet.
    A fork starts every worker with every module imported; a fresh interpreter would also hash strings
    differently, and iterate sets, such as the shortcode names, in another order."""
    return threading.active_count() == 1


class _Worker:
    loader: ContentLoader
    inputs: ArticleInputs
    usable: bool


_worker = _Worker()


def _start_worker(config_path: Path, inputs: ArticleInputs) -> None:
    gc.freeze()  # what a forked worker inherits is never garbage of its own: keep collections off it
    gc.enable()  # forked while the build had collections off: a worker collects its own cycles
    from syndicate.snapshot import body_renderer  # the renderer a build makes (snapshot imports this module)

    config = load_config(config_path)
    renderer = body_renderer(config)
    _worker.loader = ContentLoader(config, renderer, ProblemList(), ParseCache())
    _worker.inputs = inputs
    _worker.usable = article_inputs(config, renderer) == inputs  # config.yaml changed since: parse nothing


def _parse_share(folder_name: str, names: list[str]) -> tuple[bytes, list[int], int]:
    """The records of ``names`` in ``folder_name``, each encoded as the disk cache writes it and joined,
    the size of each, and how many of them were parsed."""
    if not _worker.usable:
        return b"", [], 0
    folder = Path(folder_name)
    loader, cache = _worker.loader, ParseCache()
    loader.cache, loader.problems = cache, ProblemList()  # each record keeps its own file's problems
    cache.begin()
    cache.unwatched_folder(folder, _worker.inputs)
    within = ResolvedFolder.of(folder, loader.config.feeds_dir)
    for name in names:
        loader.load_article(folder / name, folder.name, True, within)
    encoded = [
        blob for name, record in cache.walked().items() if (blob := record_bytes(folder, name, record)) is not None
    ]
    return b"".join(encoded), [len(blob) for blob in encoded], cache.parsed
