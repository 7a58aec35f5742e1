"""What RSS and Atom share: namespaces, dates, the image as Media RSS, the hub and paging links."""

from __future__ import annotations

import datetime as dt
import mimetypes
from urllib.parse import urlsplit

from syndicate.content.model import Image
from syndicate.formats.model import FeedView

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
GENERATOR = "Syndicate"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc822(value: dt.datetime) -> str:
    """An RFC 822 date (``Tue, 02 Jan 2024 03:04:05 +0200``) in English whatever the locale, for RSS."""
    return f"{_DAYS[value.weekday()]}, {value.day:02d} {_MONTHS[value.month - 1]} {value.year:04d} {value:%H:%M:%S %z}"


def media_content(image: Image) -> dict[str, str]:
    """The Media RSS ``media:content`` of an item's image: the same element in RSS and Atom."""
    media = {"url": image.url, "medium": "image"}
    if image.width and image.height:
        media.update(height=str(image.height), width=str(image.width))
    return media


def image_type(image: Image) -> str | None:
    """The image's media type from its file name (``image/jpeg``), when it says one."""
    guessed, _ = mimetypes.guess_type(urlsplit(image.url).path, strict=False)
    return guessed if guessed and guessed.startswith("image/") else None


def extra_links(view: FeedView) -> list[tuple[str, str]]:
    """Hub and paging links, in a fixed order so output bytes are stable."""
    links = [("hub", hub) for hub in view.hubs]
    links += [(rel, view.pages[rel]) for rel in ("first", "previous", "next", "last") if rel in view.pages]
    return links
