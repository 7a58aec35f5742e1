"""The admin API's stores when a shared store is on: writes go to this replica's copy of the store (then to
the store itself, ``fleet/replica.py``), and ids a file of the site defines are refused (a file wins).

The rule and the copy are described in ``fleet/objects.py``.
"""

from __future__ import annotations

from syndicate.ads.store import Change, SpaceStore
from syndicate.config import Config
from syndicate.fleet.objects import ADSPACES, ARTICLES, Key, Kind
from syndicate.ingest.store import ArticleStore
from syndicate.problems import ProblemList
from syndicate.snapshot import Snapshot


def _refuse_over_a_file(config: Config, kind: Kind, object_id: str, problems: ProblemList) -> ProblemList:
    defined = kind.file_of(config, object_id)
    if defined is not None:
        problems.error(defined, 0, kind.refusal(object_id))
    return problems


class SharedSpaceStore(SpaceStore):
    """``SpaceStore`` on this replica's copy of the store's ad spaces."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.folder = ADSPACES.folder(config)
        self.backups = config.data_dir / "admin" / "backups" / "shared-adspaces"

    def validate(self, space_id: str, data: bytes, snapshot: Snapshot) -> ProblemList:
        return _refuse_over_a_file(self.config, ADSPACES, space_id, super().validate(space_id, data, snapshot))


class SharedArticleStore(ArticleStore):
    """``ArticleStore`` on this replica's copy of the store's articles (the feeds stay the site's)."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.folder = ARTICLES.folder(config)
        self.backups = config.data_dir / "admin" / "backups" / "shared-articles"

    def validate(self, feed: str, article_id: str, data: bytes, suffix: str) -> ProblemList:
        problems = super().validate(feed, article_id, data, suffix)
        return _refuse_over_a_file(self.config, ARTICLES, f"{feed}/{article_id}{suffix}", problems)


def stored_as(store: SpaceStore | ArticleStore, change: Change) -> Key | None:
    """The store's key of a change the admin API made through ``store``; None for a store of the site's files."""
    if isinstance(store, SharedSpaceStore):
        return ADSPACES, change.space_id
    if isinstance(store, SharedArticleStore):
        return ARTICLES, f"{change.space_id}{change.path.suffix}"
    return None
