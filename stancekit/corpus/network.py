"""The signed actor network: who is for or against whom.

An edge runs from a holder to a target that is itself an actor of the corpus (the target
"Azerbaijan" when Azerbaijan also speaks). Its ``weight`` is mean p(favor) - mean
p(against) over the sentences, from -1 (always against) to +1 (always favor); ``stance``
is the label of the summary rule (:mod:`stancekit.results.summarize`: the stance with more
evidence, the sum of its probability over the sentences, if that reaches 0.75 sentences,
else none), the same as the actor x target table's; ``sign`` is +1, -1 or 0 by it. The
text's own voice is not an actor and has no edges; nor does an actor toward itself.

Example:
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"document_id": ["d"], "sentence_index": [0], "holder": ["Zas"],
    ...     "target": ["Armenia"], "target_actor": ["Armenia"],
    ...     "p_favor": [0.1], "p_against": [0.8], "p_none": [0.1]})
    >>> net = build_network(rows)
    >>> net.edges[["source", "target", "weight", "sign"]].round(2).to_dict("records")
    [{'source': 'Zas', 'target': 'Armenia', 'weight': -0.7, 'sign': -1}]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stancekit.atomic import atomic_open
from stancekit.corpus.aggregate import sentence_rows
from stancekit.results.summarize import (
    AUTHOR,
    SUMMARY_MIN_EVIDENCE,
    check_min_evidence,
    evidence_label,
)

__all__ = ["ActorNetwork", "build_network"]

EDGE_COLUMNS = [
    *("source", "target", "weight", "sign", "stance", "n_sentences", "n_documents"),
    *("p_favor", "p_against", "p_none", "favor_evidence", "against_evidence"),
]
NODE_COLUMNS = ["actor", "kind", "n_sentences", "out_degree", "in_degree"]
_SIGN = {"favor": 1, "against": -1, "none": 0}


@dataclass(frozen=True, eq=False)
class ActorNetwork:
    """Signed, directed actor -> actor edges and their nodes (see the module docstring).

    Attributes:
        edges: ``source``, ``target``, ``weight``, ``sign``, ``stance``, ``n_sentences``,
            ``n_documents``, ``p_favor``, ``p_against``, ``p_none``, ``favor_evidence``,
            ``against_evidence``.
        nodes: ``actor``, ``kind``, ``n_sentences`` (as holder), ``out_degree``,
            ``in_degree``.
    """

    edges: pd.DataFrame
    nodes: pd.DataFrame

    def to_dataframe(self) -> pd.DataFrame:
        """The edges as a DataFrame (a copy)."""
        return self.edges.copy()

    def to_dict(self) -> dict[str, Any]:
        """``{"nodes": [...], "edges": [...]}`` of plain records."""
        return {
            "nodes": self.nodes.astype(object).where(self.nodes.notna(), None).to_dict("records"),
            "edges": self.edges.to_dict("records"),
        }

    def to_networkx(self) -> Any:
        """A :class:`networkx.DiGraph`; edge attributes are the edge columns, node attributes
        ``kind`` (``""`` when unknown) and ``n_sentences``."""
        import networkx as nx  # type: ignore[import-untyped]

        graph = nx.DiGraph()
        for node in self.nodes.to_dict("records"):
            kind = node["kind"] if isinstance(node["kind"], str) else ""
            graph.add_node(node["actor"], kind=kind, n_sentences=int(node["n_sentences"]))
        counts = ("sign", "n_sentences", "n_documents")
        for e in self.edges.to_dict("records"):
            attrs: dict[str, Any] = {
                str(k): int(v) if k in counts else v
                for k, v in e.items()
                if k not in ("source", "target")
            }
            graph.add_edge(e["source"], e["target"], **attrs)
        return graph

    def write_graphml(self, path: str | os.PathLike[str]) -> Path:
        """Write the graph as GraphML (Gephi, Cytoscape, yEd read it); returns the path."""
        import networkx as nx  # type: ignore[import-untyped]

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(out, "wb") as f:
            nx.write_graphml(self.to_networkx(), f)
        return out


def build_network(
    rows: pd.DataFrame, *, min_sentences: int = 1, min_evidence: float = SUMMARY_MIN_EVIDENCE
) -> ActorNetwork:
    """The :class:`ActorNetwork` of a corpus's judgement rows (needs ``target_actor``)."""
    floor = check_min_evidence(min_evidence, "network")
    if not isinstance(min_sentences, int) or min_sentences < 1:
        raise ValueError(
            f"The 'min_sentences' parameter of network must be an int >= 1. "
            f"Got {min_sentences!r} instead."
        )
    rows = sentence_rows(rows)
    kinds: dict[str, str | None] = {}
    said: dict[str, int] = {}
    for holder, group in rows[rows["holder"] != AUTHOR].groupby("holder"):
        found = group["holder_kind"].dropna() if "holder_kind" in group.columns else None
        kinds[str(holder)] = str(found.mode().iloc[0]) if found is not None and len(found) else None
        said[str(holder)] = len(group)
    linked = rows[
        rows["target_actor"].notna()
        & (rows["holder"] != AUTHOR)
        & (rows["holder"] != rows["target_actor"])
    ]
    records = []
    for (source, target), g in linked.groupby(["holder", "target_actor"], sort=True):
        if len(g) < min_sentences:
            continue
        means = {c: float(g[c].mean()) for c in ("p_favor", "p_against", "p_none")}
        fav, ag = float(g["p_favor"].sum()), float(g["p_against"].sum())
        stance = evidence_label(fav, ag, min_evidence=floor)
        records.append(
            {
                "source": source,
                "target": target,
                "weight": means["p_favor"] - means["p_against"],
                "sign": _SIGN[stance],
                "stance": stance,
                "n_sentences": len(g),
                "n_documents": g["document_id"].nunique(),
                **means,
                "favor_evidence": fav,
                "against_evidence": ag,
            }
        )
    edges = pd.DataFrame.from_records(records, columns=EDGE_COLUMNS)
    actors = sorted(set(edges["source"]) | set(edges["target"]))
    nodes = pd.DataFrame(
        {
            "actor": actors,
            "kind": [kinds.get(a) for a in actors],
            "n_sentences": [said.get(a, 0) for a in actors],
            "out_degree": [int((edges["source"] == a).sum()) for a in actors],
            "in_degree": [int((edges["target"] == a).sum()) for a in actors],
        },
        columns=NODE_COLUMNS,
    )
    return ActorNetwork(edges, nodes)
