"""Articles as small numbers, for the keys of the caches that outlive a Snapshot.

The fragment and slot caches are keyed by the article itself (every field: equal articles
from two builds share an entry). A key tuple that holds an ``Article`` is one more object the
cycle collector walks on every full collection, and those caches hold up to hundreds of
thousands of entries: collections long enough to stall the event loop. A key of plain
numbers, like a value of plain tuples of strings and bytes, is untracked by the collector.

Equal articles get the same number while any entry uses it; a number no entry uses is
forgotten, with its article, so an old Snapshot's articles are not kept alive by the cache.
Not thread-safe: each cache calls it under its own lock.
"""

from __future__ import annotations

from syndicate.content.model import Article


class ArticleNumbers:
    """A number per distinct article value, counted by the cache entries that use it."""

    def __init__(self) -> None:
        self.numbers: dict[Article, int] = {}
        self.articles: dict[int, Article] = {}
        self.uses: dict[int, int] = {}  # ints only: untracked by the collector
        self.next = 0

    def __len__(self) -> int:
        return len(self.numbers)

    def find(self, article: Article) -> int | None:
        return self.numbers.get(article)

    def acquire(self, article: Article) -> int:
        """The article's number, with one more use: call ``release`` when the entry using it goes."""
        number = self.numbers.get(article)
        if number is None:
            number = self.next
            self.next += 1
            self.numbers[article] = number
            self.articles[number] = article
            self.uses[number] = 1
        else:
            self.uses[number] += 1
        return number

    def release(self, number: int) -> None:
        left = self.uses[number] - 1
        if left:
            self.uses[number] = left
            return
        del self.uses[number]
        del self.numbers[self.articles.pop(number)]

    def clear(self) -> None:
        self.numbers.clear()
        self.articles.clear()
        self.uses.clear()
