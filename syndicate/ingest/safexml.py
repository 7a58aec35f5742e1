"""How lxml reads XML that comes from outside (an upstream feed, a WordPress export): entities, DTDs and the
network off, lxml's size limits on, comments and processing instructions dropped, CDATA as text."""

from __future__ import annotations

from typing import TypedDict


class Options(TypedDict):
    resolve_entities: bool
    no_network: bool
    huge_tree: bool
    load_dtd: bool
    remove_comments: bool
    remove_pis: bool
    strip_cdata: bool


OPTIONS = Options(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    remove_comments=True,
    remove_pis=True,
    strip_cdata=True,
)
