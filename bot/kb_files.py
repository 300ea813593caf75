"""The knowledge base as reviewable YAML files: reading, validating and writing them.

`knowledge/entries/*.yaml` is the seed and export format of the knowledge base (the
database is the source of truth at run time). `read_dir` validates every file and
reports every problem with its file and line; `dump_group` writes the one canonical
layout, so `kb import` followed by `kb export` reproduces the files byte for byte.
The format is documented in `knowledge/FORMAT.md`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ENTRY_FIELDS",
    "Entry",
    "Group",
    "KbProblem",
    "KbInvalid",
    "check_entry",
    "dump_group",
    "read_dir",
    "read_text",
]

ENTRY_FIELDS = (
    "id",
    "kind",
    "status",
    "question",
    "alternates",
    "answer",
    "answer_en",
    "links",
    "related",
    "tags",
    "sources",
    "reviewed",
    "review_by",
)
GROUP_FIELDS = ("group", "title", "title_en", "pillar", "entries")
REQUIRED = ("id", "question", "answer")
KINDS = ("faq", "out-of-scope")
STATUSES = ("draft", "published", "archived")
PILLARS = ("chinh-quyen-so", "kinh-te-so", "xa-hoi-so", "chung")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: Entry and group ids travel in button payloads (`f:khong-lien-quan:<id>`, 18 + id bytes),
#: which Telegram limits to 64 bytes (`bot.channels.base.MAX_PAYLOAD_BYTES`).
MAX_ID_LENGTH = 40


@dataclass
class Entry:
    """One knowledge-base entry, as in the files and the database."""

    id: str
    question: str
    answer: str
    kind: str = "faq"
    status: str = "published"
    alternates: list[str] = field(default_factory=list)
    answer_en: str = ""
    links: list[dict[str, str]] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    reviewed: dt.date | None = None
    # When facts that change (ranks, hotlines, fees, app menus, pilots, laws) must be
    # checked again; past it, the entry is listed on the admin home and by `kb import`.
    review_by: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entry as a plain mapping in file order (dates as ISO strings)."""
        d = {name: getattr(self, name) for name in ENTRY_FIELDS}
        d["reviewed"] = self.reviewed.isoformat() if self.reviewed else None
        d["review_by"] = self.review_by.isoformat() if self.review_by else None
        return d


@dataclass
class Group:
    """One file: a menu group of entries."""

    group: str
    title: str
    title_en: str
    pillar: str
    entries: list[Entry] = field(default_factory=list)


@dataclass(frozen=True)
class KbProblem:
    """A validation problem, located in a file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class KbInvalid(Exception):
    """Raised with every problem found; nothing is imported when it is raised."""

    def __init__(self, problems: list[KbProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# -- reading ---------------------------------------------------------------------


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _pairs(node: yaml.MappingNode) -> Iterable[tuple[str, yaml.Node, yaml.Node]]:
    for k, v in node.value:
        yield str(k.value), k, v


def _str_list(
    value: Any, name: str, where: int, path: str, problems: list[KbProblem]
) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        problems.append(KbProblem(path, where, f"'{name}' must be a list of strings"))
        return []
    return [x.strip() for x in value]


def read_text(text: str, path: str) -> tuple[Group | None, list[KbProblem], dict[str, int]]:
    """Parse one file. Returns the group, its problems and the line of each entry id."""
    problems: list[KbProblem] = []
    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [KbProblem(path, line, f"not valid YAML: {problem}")], lines
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        return None, [KbProblem(path, 1, "expected a mapping with 'group' and 'entries'")], lines
    top = {name: (k, v) for name, k, v in _pairs(root)}
    for name, (k, _) in top.items():
        if name not in GROUP_FIELDS:
            problems.append(KbProblem(path, _line(k), f"unknown field '{name}'"))
    for name in GROUP_FIELDS:
        if name not in data:
            problems.append(KbProblem(path, 1, f"missing field '{name}'"))
    stem = Path(path).stem
    if data.get("group") not in (None, stem):
        problems.append(
            KbProblem(path, _line(top["group"][1]), f"group '{data['group']}' must equal the file name '{stem}'")
        )
    if len(stem) > MAX_ID_LENGTH:
        problems.append(KbProblem(path, 1, f"group '{stem}' is longer than {MAX_ID_LENGTH} characters"))
    if "pillar" in data and data["pillar"] not in PILLARS:
        problems.append(
            KbProblem(path, _line(top["pillar"][1]), f"pillar must be one of {', '.join(PILLARS)}")
        )
    group = Group(
        group=str(data.get("group") or stem),
        title=str(data.get("title") or ""),
        title_en=str(data.get("title_en") or ""),
        pillar=str(data.get("pillar") or "chung"),
    )
    entries_node = top.get("entries", (None, None))[1]
    raw_entries = data.get("entries")
    if entries_node is None:
        return group, problems, lines
    if not isinstance(entries_node, yaml.SequenceNode) or not isinstance(raw_entries, list):
        problems.append(KbProblem(path, _line(entries_node), "'entries' must be a list"))
        return group, problems, lines
    for node, raw in zip(entries_node.value, raw_entries, strict=True):
        entry = _read_entry(node, raw, path, problems)
        if entry is not None:
            if entry.id in lines:
                problems.append(
                    KbProblem(path, _line(node), f"duplicate id '{entry.id}' (also line {lines[entry.id]})")
                )
            lines.setdefault(entry.id, _line(node))
            group.entries.append(entry)
    return group, problems, lines


def _read_entry(node: yaml.Node, raw: Any, path: str, problems: list[KbProblem]) -> Entry | None:
    where = _line(node)
    if not isinstance(node, yaml.MappingNode) or not isinstance(raw, dict):
        problems.append(KbProblem(path, where, "an entry must be a mapping"))
        return None
    keys = {name: _line(k) for name, k, _ in _pairs(node)}
    ok = True
    for name, line in keys.items():
        if name not in ENTRY_FIELDS:
            problems.append(KbProblem(path, line, f"unknown field '{name}'"))
            ok = False
    for name in REQUIRED:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(KbProblem(path, keys.get(name, where), f"missing or empty '{name}'"))
            ok = False
    entry_id = str(raw.get("id") or "")
    if entry_id and not _ID.match(entry_id):
        problems.append(KbProblem(path, keys.get("id", where), f"id '{entry_id}' must be kebab-case"))
        ok = False
    elif len(entry_id) > MAX_ID_LENGTH:
        problems.append(KbProblem(path, keys.get("id", where), f"id '{entry_id}' is longer than {MAX_ID_LENGTH} characters"))
        ok = False
    kind = raw.get("kind", "faq")
    if kind not in KINDS:
        problems.append(KbProblem(path, keys.get("kind", where), f"kind must be one of {', '.join(KINDS)}"))
        ok = False
    status = raw.get("status", "published")
    if status not in STATUSES:
        problems.append(
            KbProblem(path, keys.get("status", where), f"status must be one of {', '.join(STATUSES)}")
        )
        ok = False
    dates: dict[str, dt.date | None] = {}
    for name in ("reviewed", "review_by"):
        value = raw.get(name)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                value = "bad"
        if value is not None and not isinstance(value, dt.date):
            problems.append(KbProblem(path, keys.get(name, where), f"{name} must be a date YYYY-MM-DD"))
            ok = False
        dates[name] = value if isinstance(value, dt.date) else None
    links = raw.get("links") or []
    if not isinstance(links, list) or not all(
        isinstance(x, dict) and set(x) == {"label", "url"} and all(isinstance(v, str) for v in x.values())
        for x in links
    ):
        problems.append(
            KbProblem(path, keys.get("links", where), "links must be a list of {label, url} mappings")
        )
        ok = False
    for name in ("answer_en",):
        if raw.get(name) is not None and not isinstance(raw.get(name), str):
            problems.append(KbProblem(path, keys.get(name, where), f"'{name}' must be text"))
            ok = False
    lists = {
        name: _str_list(raw.get(name), name, keys.get(name, where), path, problems)
        for name in ("alternates", "related", "tags", "sources")
    }
    if not ok:
        return None
    return Entry(
        id=entry_id,
        kind=kind,
        status=status,
        question=raw["question"].strip(),
        alternates=lists["alternates"],
        answer=raw["answer"].strip(),
        answer_en=(raw.get("answer_en") or "").strip(),
        links=[{"label": x["label"].strip(), "url": x["url"].strip()} for x in links],
        related=lists["related"],
        tags=lists["tags"],
        sources=lists["sources"],
        reviewed=dates["reviewed"],
        review_by=dates["review_by"],
    )


def read_dir(directory: Path) -> list[Group]:
    """Read and validate every `*.yaml` in a folder; raise `KbInvalid` listing every problem."""
    problems: list[KbProblem] = []
    groups: list[Group] = []
    where: dict[str, tuple[str, int]] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise KbInvalid([KbProblem(str(directory), 0, "no *.yaml knowledge files found")])
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(KbProblem(str(path), 1, f"cannot read: {exc}"))
            continue
        group, found, lines = read_text(text, str(path))
        problems.extend(found)
        if group is None:
            continue
        for entry_id, line in lines.items():
            if entry_id in where and where[entry_id][0] != str(path):
                other = where[entry_id]
                problems.append(
                    KbProblem(str(path), line, f"duplicate id '{entry_id}' (also {other[0]}:{other[1]})")
                )
            where.setdefault(entry_id, (str(path), line))
        groups.append(group)
    for group in groups:
        file_name = str(directory / f"{group.group}.yaml")
        for entry in group.entries:
            for rel in entry.related:
                if rel not in where:
                    problems.append(
                        KbProblem(file_name, where[entry.id][1], f"'{entry.id}': related id '{rel}' does not exist")
                    )
    if problems:
        raise KbInvalid(problems)
    return groups


# -- writing ---------------------------------------------------------------------


class _Flow(list):
    """A list written in flow style: `[a, b]`."""


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Flow, _flow)


def dump_group(group: Group) -> str:
    """The canonical text of one file (what `kb export` writes)."""
    entries = []
    for e in group.entries:
        entries.append(
            {
                "id": e.id,
                "kind": e.kind,
                "status": e.status,
                "question": e.question,
                "alternates": list(e.alternates),
                "answer": e.answer,
                "answer_en": e.answer_en,
                "links": [{"label": x["label"], "url": x["url"]} for x in e.links],
                "related": _Flow(e.related),
                "tags": _Flow(e.tags),
                "sources": list(e.sources),
                "reviewed": e.reviewed,
            }
        )
        if e.review_by is not None:  # written only where facts change, so other entries stay as they were
            entries[-1]["review_by"] = e.review_by
    data = {
        "group": group.group,
        "title": group.title,
        "title_en": group.title_en,
        "pillar": group.pillar,
        "entries": entries,
    }
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)


def check_entry(entry: Entry, group: str = "entry") -> list[KbProblem]:
    """Validate one entry exactly as `read_dir` validates a file (used by the admin site,
    so an edited entry passes the same checks as `cdsbot kb import`)."""
    text = dump_group(Group(group=group, title=group, title_en="", pillar="chung", entries=[entry]))
    _, problems, _ = read_text(text, f"{group}.yaml")
    return problems
