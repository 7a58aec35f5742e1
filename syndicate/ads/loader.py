"""Reads adspaces/<id>.yaml into ``AdSpace`` objects, reporting every fault with file, line and field.

Unknown keys are errors: in config-as-code a typo must not silently switch an ad off.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from syndicate.ads.model import AdSpace, AdUnit, Fallback, Selection, UnitType
from syndicate.content.nesting import MAX_DEPTH, too_deep
from syndicate.fields import MAX_PIXELS, Fields
from syndicate.files import read_text
from syndicate.formats import FORMATS
from syndicate.problems import LoadError, ProblemList
from syndicate.yamlfile import YMap, load_yaml

#: Use ``fullmatch``: with ``match``, a final ``$`` lets "nl\n" through.
SPACE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_SPACE_BYTES = 1024 * 1024
_FORMAT_CHOICE = ", ".join(list(FORMATS)[:-1]) + " or " + list(FORMATS)[-1]  # "rss, atom or json"
MAX_WEIGHT = 1e9  # weights are summed per draw: far from float overflow, far beyond any real share


def read_unit(f: Fields, absolute: Callable[[str], str], sanitize: Callable[[str], str]) -> AdUnit | None:
    """One unit; None when it has errors (they are in ``f.problems``)."""
    errors_before = len(f.problems.errors)
    unit_id = f.text("id", required=True)
    kind = UnitType(f.choice("type", tuple(UnitType), UnitType.IMAGE))
    url = f.url("url", absolute, required=True)  # html units' links all go there too
    src = f.url("src", absolute, required=kind is UnitType.IMAGE)
    html = f.text("html", required=kind is UnitType.HTML)
    deep = too_deep(html) is not None  # sanitising such markup takes time quadratic in its depth
    if deep:
        f.error("html", f"markup nests deeper than {MAX_DEPTH} elements")
    unit = AdUnit(
        id=unit_id,
        type=kind,
        url=url,
        line=f.anchor,
        src=src,
        where=f.prefix,
        key_lines=dict(f.mapping.key_lines),
        width=f.integer("width", 0, minimum=1, maximum=MAX_PIXELS) or None,
        height=f.integer("height", 0, minimum=1, maximum=MAX_PIXELS) or None,
        alt=f.text("alt"),
        title=f.text("title", required=kind is UnitType.TEXT),
        body=f.text("body"),
        html="" if deep else sanitize(html),
        weight=f.number("weight", 1.0, minimum=0.0, maximum=MAX_WEIGHT),
        priority=f.integer("priority", 0),
        start=f.datetime("start"),
        end=f.datetime("end"),
        feeds=f.str_list("feeds"),
        partners=f.str_list("partners"),
        formats=f.str_list("formats"),
        tags=f.str_list("tags"),
        house=f.flag("house", False),
        max_impressions=f.integer("max_impressions", 0, minimum=1) or None,
        max_clicks=f.integer("max_clicks", 0, minimum=1) or None,
        max_impressions_per_partner=f.integer("max_impressions_per_partner", 0, minimum=1) or None,
        max_clicks_per_partner=f.integer("max_clicks_per_partner", 0, minimum=1) or None,
    )
    for name in unit.formats:
        if name not in FORMATS:
            f.error("formats", f"unknown format {name!r}; use {_FORMAT_CHOICE}")
    if unit.start and unit.end and unit.end <= unit.start:
        f.error("end", "must be after start")
    if kind is UnitType.HTML and f.has("html") and not deep and not unit.html.strip():
        f.error("html", "nothing is left after removing scripts and unsafe markup")
    f.finish()
    return unit if len(f.problems.errors) == errors_before else None


def read_space(
    path: Path, root: Path, problems: ProblemList, absolute: Callable[[str], str], sanitize: Callable[[str], str]
) -> AdSpace | None:
    """One space file; None when it cannot be used (its problems are in ``problems``)."""
    text = read_text(path, root, problems, MAX_SPACE_BYTES)
    if text is None:
        return None
    return parse_space(text, path, problems, absolute, sanitize)


def parse_space(
    text: str, path: Path, problems: ProblemList, absolute: Callable[[str], str], sanitize: Callable[[str], str]
) -> AdSpace | None:
    """A space from its YAML text, as if read from ``path``: the admin API checks a body with it before writing."""
    try:
        data = load_yaml(text, path)
    except LoadError as exc:
        problems.extend(exc.problems)
        return None
    f = Fields.of(data, path, problems, "", 1)
    if f is None:
        return None
    errors_before = len(problems.errors)
    space_id = f.text("id", path.stem)
    if space_id != path.stem:
        f.error("id", f"must match the file name {path.stem!r}")
    units: list[AdUnit] = []
    seen: set[str] = set()
    for unit_fields in f.sections("units"):
        written = unit_fields.mapping.get("id")
        written_id = str(written) if isinstance(written, (str, int)) and not isinstance(written, bool) else None
        duplicate = written_id is not None and written_id in seen
        if duplicate:  # said even when the unit has other faults: one check run shows them all
            unit_fields.error("id", f"duplicate unit id {written_id!r}")
        elif written_id is not None:
            seen.add(written_id)
        unit = read_unit(unit_fields, absolute, sanitize)
        if unit is not None and not duplicate:
            units.append(unit)
    if_empty = f.text("if_empty") or None
    label = f.text("label", "Advertisement")
    space = AdSpace(
        id=space_id,
        name=f.text("name", space_id),
        label=label if label.strip() else "Advertisement",
        max_ads=f.integer("max_ads", 1, minimum=1, maximum=10),
        selection=Selection(f.choice("selection", tuple(Selection), Selection.WEIGHTED)),
        if_empty=if_empty,
        fallback=Fallback(f.choice("fallback", tuple(Fallback), Fallback.HIDE)),
        units=tuple(units),
        path=path,
        units_written=isinstance(f.mapping.get("units"), list),
        if_empty_written="if_empty" in f.mapping,
        if_empty_line=f.line("if_empty"),
    )
    if if_empty == space_id:
        f.error("if_empty", "a space cannot fall back to itself")
    f.finish()
    return space if len(problems.errors) == errors_before else None


def load_spaces(
    folder: Path, problems: ProblemList, absolute: Callable[[str], str], sanitize: Callable[[str], str]
) -> dict[str, AdSpace]:
    """Every ``*.yaml`` in ``folder``, then the cross-references between spaces."""
    spaces: dict[str, AdSpace] = {}
    broken: dict[str, Path] = {}
    if not folder.is_dir():
        problems.warning(folder, 0, "ad spaces folder not found: every ad shortcode renders as nothing")
        return spaces
    for path in sorted(folder.glob("*.y*ml")):
        if path.name.startswith(("_", ".")):
            continue
        if not SPACE_ID.fullmatch(path.stem):
            problems.error(path, 0, "ad space file names are letters, digits, '-' and '_'; skipped")
            continue
        space = read_space(path, folder, problems, absolute, sanitize)
        if space is not None:
            spaces[space.id] = space
        else:
            broken[path.stem] = path
    # A broken space still exists for the fallbacks naming it, and its own fallback is still checked:
    # one check run tells everything, without errors that only follow from others.
    fallbacks = [(s.path, s.if_empty, s.if_empty_line) for s in spaces.values() if s.if_empty]
    fallbacks += [found for path in broken.values() if (found := _fallback_of(path, folder)) is not None]
    for path, target, line in sorted(fallbacks):
        if target not in spaces and target not in broken:
            problems.error(path, line, f"if_empty: no ad space {target!r}")
    for space in spaces.values():
        if not space.units:
            problems.warning(space.path, 0, "this space has no units")
    _report_cycles(spaces, problems)
    return spaces


def _fallback_of(path: Path, root: Path) -> tuple[Path, str, int] | None:
    """The ``if_empty`` a space file names, read again from a file that did not load."""
    text = read_text(path, root, ProblemList(), MAX_SPACE_BYTES)
    try:
        data = load_yaml(text or "", path)
    except LoadError:
        return None
    target = data.get("if_empty") if isinstance(data, YMap) else None
    if not isinstance(target, (str, int)) or isinstance(target, bool) or not str(target):
        return None
    return (path, str(target), data.key_lines.get("if_empty", data.line))


def _report_cycles(spaces: dict[str, AdSpace], problems: ProblemList) -> None:
    """``if_empty`` chains that loop are rendered safely, but they are still a mistake."""
    for start in spaces.values():
        seen = [start.id]
        current = start.if_empty
        while current in spaces and current not in seen:
            seen.append(current)
            current = spaces[current].if_empty
        if current == start.id and len(seen) > 1:
            problems.warning(start.path, 0, "if_empty chain loops: " + " -> ".join([*seen, start.id]))
