"""Unlabelled training pairs built by stancekit's own pipeline, for distillation.

A recipe dataset with ``"format": "pipeline"`` reads only the *texts* of a labelled-spans
file (its spans are ignored) and runs them through the pipeline the analyzer runs at
inference: sentences, actors, and every (sentence, holder, target) pair
:func:`~stancekit.pairs.build.build_pairs` makes when the targets are the document's own named
actors (people, organisations, states, nationalities). The pairs have no labels; the
student learns the teacher's calibrated probabilities on them (``distill_from``), which
is how a distilled student sees the pairs it will meet in use, not only the pairs
annotators chose.

The held-out slice of a file (``holdout_fraction``) is split off exactly as for its
labelled dataset (same groups, same seed) and not read, so no dev document's text reaches
training.

Example:
    >>> import json, tempfile
    >>> from stancekit.training.unlabelled import pipeline_examples
    >>> doc = {"id": "d1", "text": "Pashinian said the CSTO failed Armenia.", "spans": []}
    >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    ...     _ = f.write(json.dumps(doc) + "\\n")
    >>> exs = pipeline_examples(f.name, source="news")
    [...] news: the pipeline built 2 pairs from 1/1 texts (...s)
    >>> sorted({(e.pair.holder, e.pair.target) for e in exs})[:2]
    [(None, 'Armenia'), (None, 'CSTO')]
    >>> exs[0].stance is None and exs[0].sentiment is None
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from stancekit.training.data import Example, LabelledSpansError, iter_documents
from stancekit.training.runtime import log

__all__ = ["TARGET_KINDS", "pipeline_examples"]

#: Actor kinds read as targets: every named actor (``find_actors``'s kinds).
TARGET_KINDS = frozenset({"PERSON", "ORG", "GPE", "NORP"})


def _texts(path: Path, source: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for lineno, doc in iter_documents(path):
        text = doc.get("text")
        if not isinstance(text, str):
            raise LabelledSpansError(f"{path}:{lineno}: 'text' must be a string")
        yield str(doc.get("id", f"{source}-{lineno}")), text, {}


def pipeline_examples(
    path: str | Path,
    *,
    source: str,
    keep: Callable[[str], bool] | None = None,
    limit: int | None = None,
) -> list[Example]:
    """Unlabelled :class:`Example` rows (``stance`` and ``sentiment`` None) for every
    pair the pipeline builds in the texts of the labelled-spans file ``path``, in file
    order: only documents whose id ``keep`` accepts (all when None), the first ``limit``
    of them (all when None)."""
    from stancekit.actors import find_actors
    from stancekit.actors.targets import Target, TargetIndex
    from stancekit.engine.memory import spacy_memory_zone
    from stancekit.pairs.build import build_pairs, scoring_input, within_unit
    from stancekit.text.segment import parse_many

    p = Path(path)
    items = [it for it in _texts(p, source) if keep is None or keep(it[0])][:limit]
    out: list[Example] = []
    t0 = time.monotonic()
    for start in range(0, len(items), 256):
        with spacy_memory_zone():  # memory stays flat over a large file
            for parsed in parse_many(items[start : start + 256]):
                actors = find_actors(parsed)
                targets = [
                    Target(a.name, aliases=tuple(a.aliases))
                    for a in actors.actors
                    if a.kind in TARGET_KINDS
                ]
                if not targets:
                    continue
                doc = parsed.document
                for pair in build_pairs(doc, actors, TargetIndex(targets)):
                    out.append(
                        Example(scoring_input(within_unit(pair)), None, None, source, doc.id)
                    )
        done = min(start + 256, len(items))
        if done % 2048 < 256 or done == len(items):
            log(
                f"{source}: the pipeline built {len(out)} pairs from {done}/{len(items)} "
                f"texts ({time.monotonic() - t0:.0f}s)"
            )
    return out
