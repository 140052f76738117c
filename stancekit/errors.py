"""Exceptions raised by stancekit. Each message names the parameter, the value and the fix."""

from __future__ import annotations

__all__ = [
    "DocumentTimeoutError",
    "DocumentTooLargeError",
    "ModelConfigError",
    "ModelNotFoundError",
    "RecipeError",
    "SpansFormatError",
    "StancekitError",
    "TargetsFileError",
    "UnsafeModelWarning",
]


class StancekitError(Exception):
    """Base class of stancekit's own errors."""


class ModelNotFoundError(StancekitError, FileNotFoundError):
    """A model folder is missing or lacks a required file."""


class ModelConfigError(StancekitError, ValueError):
    """A model folder's stancekit config is malformed or unsafe."""


class TargetsFileError(StancekitError, ValueError):
    """A targets file is unreadable or has a bad entry."""


class RecipeError(StancekitError, ValueError):
    """A training recipe's config is malformed (the message names the field and the fix)."""


class SpansFormatError(StancekitError, ValueError):
    """A labelled-spans file, DataFrame or Dataset has a bad document or span."""


class DocumentTooLargeError(StancekitError, ValueError):
    """A document is longer than the analyzer's ``max_chars`` and was not analysed."""


class DocumentTimeoutError(StancekitError, TimeoutError):
    """A document took longer than ``analyze_many(timeout_s=...)`` and was not analysed."""


class UnsafeModelWarning(UserWarning):
    """A model was loaded in a way that can run code from its folder (``allow_pickle=True``)."""
