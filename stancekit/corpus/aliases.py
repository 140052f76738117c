"""The user's alias table: canonical actor names, their aliases, and names kept apart.

Example:
    >>> table = AliasTable({"Nikol Pashinyan": ("Pashinian",)}, keep_apart=(("Aliyev",),))
    >>> table.to_dict()
    {'actors': {'Nikol Pashinyan': ['Pashinian']}, 'keep_apart': [['Aliyev']]}
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stancekit.errors import StancekitError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["AliasTable", "AliasTableError", "load_aliases"]


class AliasTableError(StancekitError, ValueError):
    """An alias table file is unreadable or has a bad entry."""


@dataclass(frozen=True)
class AliasTable:
    """User decisions on actor identity, overriding automatic merging.

    Args:
        actors: canonical name -> its aliases (every alias becomes that actor).
        keep_apart: groups of names never merged into one actor automatically; a group of
            one name keeps that name out of every automatic merge.

    Files are TOML::

        [[actor]]
        name = "Nikol Pashinyan"
        aliases = ["Pashinian", "Nikol Pashinian"]

        [[keep_apart]]
        names = ["Ilham Aliyev", "Heydar Aliyev"]

    or CSV with columns ``canonical,alias`` and an optional ``merge`` column (``no`` keeps
    the two apart; an empty alias with ``no`` keeps the canonical name on its own).

    Example:
        >>> AliasTable({"Nikol Pashinyan": ("Pashinian",)}, keep_apart=(("Aliyev",),)).to_dict()
        {'actors': {'Nikol Pashinyan': ['Pashinian']}, 'keep_apart': [['Aliyev']]}
    """

    actors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    keep_apart: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        actors: dict[str, tuple[str, ...]] = {}
        for name, aliases in dict(self.actors).items():
            if not isinstance(name, str) or not name.strip():
                raise AliasTableError(
                    f"AliasTable: every canonical name must be a non-empty string, got {name!r}"
                )
            if isinstance(aliases, str) or not all(
                isinstance(a, str) and a.strip() for a in aliases
            ):
                raise AliasTableError(
                    f"AliasTable: aliases of {name!r} must be a list of non-empty strings, "
                    f"got {aliases!r}"
                )
            actors[name.strip()] = tuple(a.strip() for a in aliases)
        groups = []
        for group in self.keep_apart:
            if isinstance(group, str) or not group or not all(isinstance(n, str) for n in group):
                raise AliasTableError(
                    f"AliasTable: each keep_apart entry must be a non-empty list of names, "
                    f"got {group!r}; write a single name as [name]"
                )
            groups.append(tuple(n.strip() for n in group))
        object.__setattr__(self, "actors", actors)
        object.__setattr__(self, "keep_apart", tuple(groups))

    def to_dict(self) -> dict[str, Any]:
        """``{"actors": {canonical: [aliases]}, "keep_apart": [[names]]}``."""
        return {
            "actors": {k: list(v) for k, v in self.actors.items()},
            "keep_apart": [list(g) for g in self.keep_apart],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AliasTable:
        """The inverse of :meth:`to_dict`."""
        actors = data.get("actors") or {}
        return cls(
            {k: tuple(v) for k, v in actors.items()},
            tuple(tuple(g) for g in data.get("keep_apart") or ()),
        )


def load_aliases(path: str | os.PathLike[str]) -> AliasTable:
    """Read an alias table from a ``.toml`` or ``.csv`` file (see :class:`AliasTable`)."""
    p = Path(path)
    if not p.is_file():
        raise AliasTableError(f"alias table {str(p)!r}: no such file; check the 'aliases' path")
    if p.suffix.lower() == ".toml":
        return _load_toml(p)
    if p.suffix.lower() == ".csv":
        return _load_csv(p)
    raise AliasTableError(
        f"alias table {str(p)!r}: unknown suffix {p.suffix!r}; use a .toml or .csv file"
    )


def _load_toml(p: Path) -> AliasTable:
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AliasTableError(f"alias table {str(p)!r}: not valid TOML ({exc})") from None
    actors: dict[str, tuple[str, ...]] = {}
    for i, entry in enumerate(data.get("actor", [])):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            raise AliasTableError(
                f'alias table {str(p)!r}: [[actor]] entry {i} needs name = "...", got {entry!r}'
            )
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list):
            raise AliasTableError(
                f"alias table {str(p)!r}: aliases of {name!r} must be a list, got {aliases!r}"
            )
        actors[name] = (*actors.get(name, ()), *aliases)
    groups = []
    for i, entry in enumerate(data.get("keep_apart", [])):
        names = entry.get("names") if isinstance(entry, dict) else None
        if not isinstance(names, list):
            raise AliasTableError(
                f"alias table {str(p)!r}: [[keep_apart]] entry {i} needs names = [...], "
                f"got {entry!r}"
            )
        groups.append(tuple(names))
    return AliasTable(actors, tuple(groups))


def _load_csv(p: Path) -> AliasTable:
    with p.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "canonical" not in reader.fieldnames:
            raise AliasTableError(
                f"alias table {str(p)!r}: needs a header with 'canonical' and 'alias' columns, "
                f"got {reader.fieldnames!r}"
            )
        actors: dict[str, tuple[str, ...]] = {}
        groups: list[tuple[str, ...]] = []
        for line, row in enumerate(reader, start=2):
            canonical = (row.get("canonical") or "").strip()
            alias = (row.get("alias") or "").strip()
            merge = (row.get("merge") or "yes").strip().lower() or "yes"
            if not canonical:
                raise AliasTableError(f"alias table {str(p)!r}, line {line}: empty 'canonical'")
            if merge in ("no", "false", "0"):
                groups.append((canonical, alias) if alias else (canonical,))
            elif merge in ("yes", "true", "1"):
                actors[canonical] = (*actors.get(canonical, ()), *([alias] if alias else []))
            else:
                raise AliasTableError(
                    f"alias table {str(p)!r}, line {line}: 'merge' must be yes or no, got {merge!r}"
                )
    return AliasTable(actors, tuple(groups))
