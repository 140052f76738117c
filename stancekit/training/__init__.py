"""Training the stancekit scorer: data readers (:mod:`.data`) and the default-model
recipe (:mod:`.recipe`, run as ``python -m stancekit.training.recipe``).

Nothing here is imported by the inference path; it needs the training extras
(``datasets``, ``scipy``) only when used.
"""

from __future__ import annotations

__all__ = ["data", "recipe"]
