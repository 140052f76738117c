"""Actor identity across documents: one canonical actor for every way a corpus names it.

Within a document stancekit already merges "Pashinian" into "Nikol Pashinian". Across
documents the same actor still comes under several names ("Pashinyan", "Armenian Prime
Minister Nikol Pashinian"). :func:`resolve_actors` merges them, in this order:

1. ``alias-table``: the user's :class:`AliasTable` (canonical name -> aliases) wins;
2. ``exact``: the same name once titles ("Prime Minister", "Armenian ... Minister"),
   possessives, accents, case and punctuation are set aside;
3. ``last-name``: a bare surname ("Pashinian") joins the one full name ending in it, when
   only one does, spellings folded as in step 4 ("Aliev" stays apart while Ilham Aliyev
   and Heydar Aliyev are both named); "N. Pashinian" joins "Nikol Pashinian";
4. ``similarity``: transliteration variants ("Pashinyan" / "Pashinian") join when their
   surnames, folded (y -> i, kh -> h, doubled letters once), have a :mod:`difflib` ratio of
   at least 0.85, first names agree, and only one actor fits.

Steps 3-4 apply to people only (kind ``PERSON`` or unknown). The table's ``keep_apart``
entries stop automatic merges: a group of names never ends up in one actor, and a single
name is never merged automatically with anything else.

Example:
    >>> ident = resolve_actors({"Nikol Pashinian": ("PERSON", 3), "Pashinyan": ("PERSON", 2),
    ...                         "Prime Minister Nikol Pashinian": ("PERSON", 1)})
    >>> ident.canonical["Pashinyan"], ident.reason["Pashinyan"]
    ('Nikol Pashinian', 'similarity')
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from stancekit.actors.lexicon import TITLE_WORDS
from stancekit.corpus.aliases import AliasTable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MERGE_REASONS", "Identity", "name_key", "resolve_actors"]

#: The reasons a surface form joined its canonical actor, as :meth:`Identity.merges` shows.
MERGE_REASONS = ("alias-table", "exact", "last-name", "similarity", "do-not-merge")

_TITLES = frozenset(w.strip(".") for w in TITLE_WORDS)
_PERSONISH = (None, "PERSON")
_WORD = re.compile(r"[^\w'\-]+")


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_key(name: str, kind: str | None = None) -> tuple[str, ...]:
    """The words that identify a name: case, accents, punctuation, a leading "the", a
    possessive and (for people) titles set aside.

    >>> name_key("Armenian Prime Minister Nikol Pashinian's", "PERSON")
    ('nikol', 'pashinian')
    >>> name_key("The CSTO", "ORG")
    ('csto',)
    """
    return _key_and_display(name, kind)[0]


@lru_cache(maxsize=65536)
def _key_and_display(name: str, kind: str | None) -> tuple[tuple[str, ...], str]:
    words = name.replace("’", "'").split()
    if words:
        words[-1] = re.sub(r"'s?$", "", words[-1])
    pairs = [(w, _WORD.sub("", _fold_accents(w).casefold()).strip("'-")) for w in words]
    pairs = [(w, k) for w, k in pairs if k]
    if len(pairs) > 1 and pairs[0][1] == "the":
        pairs = pairs[1:]
    if kind in _PERSONISH:
        last_title = max((i for i, (_, k) in enumerate(pairs[:-1]) if k in _TITLES), default=-1)
        pairs = pairs[last_title + 1 :]
    return tuple(k for _, k in pairs), " ".join(w for w, _ in pairs)


@lru_cache(maxsize=65536)
def _fold(word: str) -> str:
    """A transliteration-tolerant spelling: y -> i, kh -> h, ts/tz -> c, letters once."""
    w = word.replace("kh", "h").replace("ts", "c").replace("tz", "c").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", w)


def _similar(a: str, b: str, threshold: float) -> bool:
    fa, fb = _fold(a), _fold(b)
    if fa == fb:
        return True
    if min(len(fa), len(fb)) < 4:
        return False
    m = difflib.SequenceMatcher(None, fa, fb, autojunk=False)
    # the cheap upper bounds first: most pairs fail them
    return (
        m.real_quick_ratio() >= threshold
        and m.quick_ratio() >= threshold
        and (m.ratio() >= threshold)
    )


def _first_names_agree(a: str, b: str, threshold: float) -> bool:
    if a == b or (min(len(a), len(b)) == 1 and a[0] == b[0]):
        return True
    return _similar(a, b, threshold)


@dataclass(frozen=True)
class Identity:
    """How each surface form of a corpus maps to its canonical actor.

    Attributes:
        canonical: surface form -> canonical name.
        reason: surface form -> how it joined (:data:`MERGE_REASONS`), or ``"canonical"``
            for the form that is the canonical name itself.
        counts: surface form -> rows seen under it.
        kinds: surface form -> kind (``PERSON``, ``ORG``...) or None.
    """

    canonical: Mapping[str, str]
    reason: Mapping[str, str]
    counts: Mapping[str, int]
    kinds: Mapping[str, str | None]
    table: AliasTable = field(default_factory=AliasTable)

    def resolve(self, name: str) -> str | None:
        """The canonical actor a name (e.g. a target's) refers to, or None if no actor.

        >>> resolve_actors({"Nikol Pashinian": ("PERSON", 1)}).resolve("Pashinian")
        'Nikol Pashinian'
        """
        if name in self.canonical:
            return self.canonical[name]
        for canonical, aliases in self.table.actors.items():
            if any(_same(n, name, None) for n in (canonical, *aliases)):
                return canonical
        key = name_key(name)
        for form, canonical in self.canonical.items():
            if name_key(form, self.kinds[form]) == key or name_key(form, "ORG") == key:
                return canonical
        if len(key) == 1:
            hits = {
                c
                for f, c in self.canonical.items()
                if len(k := name_key(f, self.kinds[f])) > 1 and k[-1] == key[0]
            }
            if len(hits) == 1:
                return hits.pop()
        return None

    def merges(self) -> pd.DataFrame:
        """Every surface form that is not its own canonical name, or was kept apart.

        Columns: ``surface``, ``canonical``, ``reason``, ``count``, ``kind``.
        """
        import pandas as pd

        rows = [
            {
                "surface": form,
                "canonical": self.canonical[form],
                "reason": self.reason[form],
                "count": self.counts.get(form, 0),
                "kind": self.kinds.get(form),
            }
            for form in self.canonical
            if self.reason[form] != "canonical"
        ]
        frame = pd.DataFrame(rows, columns=["surface", "canonical", "reason", "count", "kind"])
        if frame.empty:
            return frame
        return frame.sort_values(
            ["canonical", "count", "surface"], ascending=[True, False, True], ignore_index=True
        )


def _same(table_name: str, form: str, kind: str | None) -> bool:
    if " ".join(table_name.casefold().split()) == " ".join(form.casefold().split()):
        return True
    key = name_key(form, kind)
    return bool(key) and name_key(table_name, kind) == key


class _Clusters:
    """Union-find over key groups, with the table's canonical names and keep-apart rules."""

    def __init__(self, n: int, table_of: list[str | None], alone: set[int]) -> None:
        self.parent = list(range(n))
        self.table_of = table_of
        self.alone = alone
        self.apart: set[frozenset[int]] = set()
        self.members: dict[int, set[int]] = {i: {i} for i in range(n)}
        self.blocked: set[int] = set()

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        """Merge the clusters of ``a`` and ``b`` unconditionally."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.table_of[ra] = self.table_of[ra] or self.table_of[rb]
            self.members[ra] |= self.members.pop(rb)

    def union(self, a: int, b: int) -> None:
        """Merge automatically, unless the table says otherwise."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        ta, tb = self.table_of[ra], self.table_of[rb]
        if ta is not None and tb is not None and ta != tb:
            return
        ma, mb = self.members[ra], self.members[rb]
        stop = self.alone & (ma | mb)
        stop |= {x for x in ma for y in mb if frozenset((x, y)) in self.apart}
        stop |= {y for x in ma for y in mb if frozenset((x, y)) in self.apart}
        if stop:
            self.blocked |= stop
            return
        self.join(ra, rb)


def resolve_actors(
    forms: Mapping[str, tuple[str | None, int]],
    table: AliasTable | None = None,
    *,
    threshold: float = 0.85,
) -> Identity:
    """Merge the surface forms of a corpus's actors (see the module docstring).

    Args:
        forms: surface form -> (kind or None, number of rows seen under it).
        table: the user's alias table; its decisions win.
        threshold: the :mod:`difflib` ratio at which folded surnames count as the same.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(
            f"The 'threshold' parameter of resolve_actors must be in (0, 1]. Got {threshold!r}."
        )
    table = table or AliasTable()
    names = sorted(forms)
    keys = [name_key(n, forms[n][0]) or (n.casefold(),) for n in names]
    kinds = [forms[n][0] for n in names]
    # one group per (kind class, key): the "exact" step
    group_of: dict[tuple[str, tuple[str, ...]], int] = {}
    gid = []
    for k, kind in zip(keys, kinds, strict=True):
        cls = "PERSON" if kind in _PERSONISH else str(kind)
        gid.append(group_of.setdefault((cls, k), len(group_of)))
    gkeys = [k for (_, k) in group_of]
    gperson = [cls == "PERSON" for (cls, _) in group_of]
    table_hit: dict[int, str] = {}
    table_of: list[str | None] = [None] * len(group_of)
    for i, (n, kind) in enumerate(zip(names, kinds, strict=True)):
        for canonical, aliases in table.actors.items():
            if any(_same(t, n, kind) for t in (canonical, *aliases)):
                table_hit[i] = canonical
                table_of[gid[i]] = canonical
                break
    uf = _Clusters(len(group_of), table_of, set())
    for group in table.keep_apart:
        hit = [{gid[i] for i, n in enumerate(names) if _same(t, n, kinds[i])} for t in group]
        if len(group) == 1:
            uf.alone |= hit[0]
        flat = [g for h in hit for g in h]
        uf.apart |= {frozenset((a, b)) for a in flat for b in flat if a != b}
    first_of: dict[str, int] = {}
    for i, canonical in table_hit.items():
        uf.join(first_of.setdefault(canonical, gid[i]), gid[i])
    _merge_people(uf, gkeys, gperson, threshold)
    return _identity(names, keys, kinds, gid, uf, table, table_hit, forms)


def _buckets(groups: list[int], letter: Callable[[int], str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for g in groups:
        out.setdefault(letter(g), []).append(g)
    return out


def _merge_people(
    uf: _Clusters, gkeys: list[tuple[str, ...]], gperson: list[bool], threshold: float
) -> None:
    people = [g for g in range(len(gkeys)) if gperson[g]]
    full = [g for g in people if len(gkeys[g]) > 1]
    named = [g for g in full if len(gkeys[g][0]) > 1]
    initial = [g for g in full if len(gkeys[g][0]) == 1]
    bare = [g for g in people if len(gkeys[g]) == 1]

    def same_surname(a: int, b: int) -> bool:
        return gkeys[a][-1] == gkeys[b][-1] or _similar(gkeys[a][-1], gkeys[b][-1], threshold)

    # full names: same or similar surname and agreeing first names
    for bucket in _buckets(
        named, lambda g: _fold(gkeys[g][0])[0] + _fold(gkeys[g][-1])[0]
    ).values():
        for x, a in enumerate(bucket):
            for b in bucket[x + 1 :]:
                if same_surname(a, b) and _first_names_agree(gkeys[a][0], gkeys[b][0], threshold):
                    uf.union(a, b)
    # "N. Pashinian": the one full name with that initial and surname
    by_initials = _buckets(named, lambda g: gkeys[g][0][0] + _fold(gkeys[g][-1])[0])
    for g in initial:
        near = by_initials.get(gkeys[g][0] + _fold(gkeys[g][-1])[0], [])
        hits = {uf.find(o) for o in near if same_surname(o, g)}
        if len(hits) == 1:
            uf.union(hits.pop(), g)
    # bare surnames: the one actor whose full name ends in it, spelling folded ("Aliev"
    # is Ilham Aliyev's only while no other Aliyev/Aliev is named) ...
    by_surname = _buckets(full, lambda g: _fold(gkeys[g][-1]))
    pending = []
    for g in bare:
        hits = {uf.find(f) for f in by_surname.get(_fold(gkeys[g][0]), [])}
        if len(hits) == 1:
            uf.union(hits.pop(), g)
        elif not hits:
            pending.append(g)
    # ... or, failing that, the one actor whose surname is similar
    by_letter = _buckets(people, lambda g: _fold(gkeys[g][-1])[0])
    for g in pending:
        near = by_letter.get(_fold(gkeys[g][0])[0], [])
        hits = {uf.find(o) for o in near if o != g and same_surname(o, g)}
        hits.discard(uf.find(g))
        if len(hits) == 1:
            uf.union(hits.pop(), g)


def _identity(
    names: list[str],
    keys: list[tuple[str, ...]],
    kinds: list[str | None],
    gid: list[int],
    uf: _Clusters,
    table: AliasTable,
    table_hit: dict[int, str],
    forms: Mapping[str, tuple[str | None, int]],
) -> Identity:
    by_root: dict[int, list[int]] = {}
    for i in range(len(names)):
        by_root.setdefault(uf.find(gid[i]), []).append(i)
    canonical: dict[str, str] = {}
    reason: dict[str, str] = {}
    for root, members in by_root.items():
        fixed = uf.table_of[root]
        key_count: dict[tuple[str, ...], int] = {}
        for i in members:
            key_count[keys[i]] = key_count.get(keys[i], 0) + forms[names[i]][1]
        best = min(
            members,
            key=lambda i: (
                len(keys[i]) < 2,
                -key_count[keys[i]],
                -len(keys[i]),
                -forms[names[i]][1],
                names[i],
            ),
        )
        name = fixed if fixed is not None else _key_and_display(names[best], kinds[best])[1]
        ckey = name_key(name, kinds[best])
        for i in members:
            canonical[names[i]] = name
            if names[i] == name:
                reason[names[i]] = "canonical"
            elif i in table_hit:
                reason[names[i]] = "alias-table"
            elif keys[i] == ckey:
                reason[names[i]] = "exact"
            elif keys[i][-1] == ckey[-1] and (
                len(keys[i]) == 1 or _first_names_agree(keys[i][0], ckey[0], 1.0)
            ):
                reason[names[i]] = "last-name"
            else:
                reason[names[i]] = "similarity"
            if gid[i] in uf.blocked and reason[names[i]] == "canonical":
                reason[names[i]] = "do-not-merge"
    return Identity(
        canonical=canonical,
        reason=reason,
        counts={n: forms[n][1] for n in names},
        kinds={n: forms[n][0] for n in names},
        table=table,
    )
