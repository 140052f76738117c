"""stancekit: who takes which stance toward which target in news text, sentence by sentence.

Example:
    >>> from stancekit import StanceAnalyzer, Target
    >>> analyzer = StanceAnalyzer(targets=["CSTO", Target("Azerbaijan", aliases=["Baku"])])
    >>> result = analyzer.analyze("Zas said the CSTO would help Armenia.")
    >>> result.to_dataframe()[["holder", "target", "stance"]].shape[1]
    3
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TARGETS",
    "Actor",
    "Corpus",
    "Document",
    "DocumentResult",
    "EvaluationReport",
    "FineTuneArgs",
    "FineTuneResult",
    "GoldDocument",
    "GoldSpan",
    "Judgement",
    "Mention",
    "ModelConfig",
    "Sentence",
    "SpanSet",
    "StanceAnalyzer",
    "StanceModel",
    "Summary",
    "SummaryRow",
    "Target",
    "__version__",
    "compare",
    "evaluate",
    "finetune",
    "load_targets",
    "make_document",
    "read_spans",
    "read_spans_csv",
    "recalibrate",
    "spans_from_dataframe",
    "spans_from_dataset",
    "write_spans",
]

from stancekit.actors.targets import DEFAULT_TARGETS, Target, load_targets
from stancekit.text.document import Document, Mention, Sentence

if TYPE_CHECKING:
    from stancekit.actors import Actor
    from stancekit.analyzer import StanceAnalyzer
    from stancekit.corpus import Corpus
    from stancekit.evaluation import EvaluationReport, compare, evaluate
    from stancekit.finetuning import FineTuneArgs, FineTuneResult, finetune, recalibrate
    from stancekit.results.judgements import DocumentResult, Judgement, Summary, SummaryRow
    from stancekit.scoring.model import ModelConfig, StanceModel
    from stancekit.spans import (
        GoldDocument,
        GoldSpan,
        SpanSet,
        read_spans,
        read_spans_csv,
        spans_from_dataframe,
        spans_from_dataset,
        write_spans,
    )
    from stancekit.text.segment import make_document

# Heavy modules (torch, transformers, spaCy) load on first use, so `stancekit --version`
# and `import stancekit` stay fast.
_LAZY = {
    "Actor": "stancekit.actors",
    "StanceAnalyzer": "stancekit.analyzer",
    "Corpus": "stancekit.corpus",
    "ModelConfig": "stancekit.scoring.model",
    "StanceModel": "stancekit.scoring.model",
    "DocumentResult": "stancekit.results.judgements",
    "Judgement": "stancekit.results.judgements",
    "Summary": "stancekit.results.judgements",
    "SummaryRow": "stancekit.results.judgements",
    "make_document": "stancekit.text.segment",
    "EvaluationReport": "stancekit.evaluation",
    "compare": "stancekit.evaluation",
    "evaluate": "stancekit.evaluation",
    "FineTuneArgs": "stancekit.finetuning",
    "FineTuneResult": "stancekit.finetuning",
    "finetune": "stancekit.finetuning",
    "recalibrate": "stancekit.finetuning",
    **{
        name: "stancekit.spans"
        for name in (
            "GoldDocument",
            "GoldSpan",
            "SpanSet",
            "read_spans",
            "read_spans_csv",
            "spans_from_dataframe",
            "spans_from_dataset",
            "write_spans",
        )
    },
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stancekit' has no attribute {name!r}")
