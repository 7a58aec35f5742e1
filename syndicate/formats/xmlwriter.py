"""One XML writer for whole documents and for item fragments: lxml's incremental serialiser.

Elements are written into lxml's ``xmlfile`` as they are visited; ``Writer.mark`` flushes
it and says how many bytes it has produced. So a fragment (one item, or the run of an
item's content between two ad slots) is the bytes between two marks of the same
serialiser a whole document is written with: the same escaping (``&`` ``<`` ``>``,
``\\r`` as ``&#13;``, quotes and whitespace in attributes), the namespace prefixes
already declared, nothing searched for or escaped by hand.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from lxml import etree

#: A content stream: text to write, or the index of an ad slot whose text comes later.
Content = Sequence[str | int]
#: An item as written: its byte runs, and the slot that goes between each two of them.
Written = tuple[tuple[bytes, ...], tuple[int, ...]]


class Writer:
    """lxml's incremental writer on an in-memory buffer, with byte positions on demand."""

    def __init__(self, xf: Any, buffer: io.BytesIO) -> None:
        self._xf = xf
        self._buffer = buffer
        self.slots: list[tuple[int, int]] = []  # (slot index, byte position) seen by ``content``

    def element(
        self, tag: str, attrib: dict[str, str] | None = None, nsmap: dict[str | None, str] | None = None
    ) -> AbstractContextManager[None]:
        return self._xf.element(tag, attrib or {}, nsmap=nsmap)  # type: ignore[no-any-return]

    def text(self, tag: str, value: str, attrib: dict[str, str] | None = None) -> None:
        with self._xf.element(tag, attrib) if attrib else self._xf.element(tag):
            self._xf.write(value)

    def empty(self, tag: str, attrib: dict[str, str]) -> None:
        """An element with attributes only: ``<link href="…"/>``. A namespaced one is written with a closing
        tag (``<media:content …></media:content>``, the same element): lxml self-closes only the elements it
        serialises whole, and those carry their own namespace declarations."""
        if tag.startswith("{"):
            with self._xf.element(tag, attrib):
                pass
        else:
            self._xf.write(etree.Element(tag, attrib))

    def content(self, tag: str, parts: Content, attrib: dict[str, str] | None = None) -> None:
        """An element whose text is ``parts``; each slot's byte position is recorded for later splicing."""
        with self._xf.element(tag, attrib or {}):
            for part in parts:
                if isinstance(part, str):
                    if part:
                        self._xf.write(part)
                else:
                    self.slots.append((part, self.mark()))

    def escaped(self, value: str) -> None:
        self._xf.write(value)

    def mark(self) -> int:
        """Bytes written so far, everything before this call included."""
        self._xf.flush()
        return self._buffer.tell()

    def getvalue(self) -> bytes:
        return self._buffer.getvalue()


@contextmanager
def writing(declaration: bool = True) -> Iterator[Writer]:
    """A writer; its bytes are complete once the block ends."""
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="UTF-8") as xf:
        if declaration:
            xf.write_declaration()
        yield Writer(xf, buffer)


def escape_texts(values: Sequence[str]) -> list[bytes]:
    """Each of ``values`` as element text, escaped by the writer the documents are written with."""
    with writing(declaration=False) as out, out.element("x"):
        start = out.mark()
        ends = []
        for value in values:
            if value:
                out.escaped(value)
            ends.append(out.mark())
    data = out.getvalue()
    return [data[a:b] for a, b in zip([start, *ends[:-1]], ends, strict=True)]


def write_items(
    wrap: Callable[[Writer], AbstractContextManager[None]], count: int, write_one: Callable[[Writer, int], None]
) -> list[Written]:
    """``count`` items written one after another inside ``wrap`` (the element that declares the document's
    namespaces, so the items' prefixes are the document's), each cut out at the writer's own marks."""
    spans: list[tuple[int, int, list[tuple[int, int]]]] = []
    with writing(declaration=False) as out, wrap(out):
        end = out.mark()
        for i in range(count):
            out.slots = []
            start = end  # nothing is written between two items
            write_one(out, i)
            end = out.mark()
            spans.append((start, end, out.slots))
    data = out.getvalue()
    return [_runs(data, start, end, slots) for start, end, slots in spans]


def _runs(data: bytes, start: int, end: int, slots: list[tuple[int, int]]) -> Written:
    edges = [start, *(at for _, at in slots), end]
    return tuple(data[a:b] for a, b in itertools.pairwise(edges)), tuple(slot for slot, _ in slots)


def head_and_tail(document: Callable[[Writer], AbstractContextManager[None]]) -> tuple[bytes, bytes]:
    """A document with no items, as the bytes before and after the place its items go."""
    with writing() as out, document(out):
        at = out.mark()
    data = out.getvalue()
    return data[:at], data[at:]
