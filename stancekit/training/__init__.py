"""Training the stancekit scorer: data readers (:mod:`.data`) and the default-model
recipe (:mod:`.recipe`, run as ``python -m stancekit.training.recipe``), built from
:mod:`.config` (the recipe JSON), :mod:`.sets` (example sets, encoding), :mod:`.trainer`
(loss, trainer), :mod:`.calibration` (temperatures, dev metrics), :mod:`.card`
(``metrics.json``, model card) and :mod:`.runtime` (logging, seeding).

Nothing here is imported by the inference path; it needs the training extras
(``datasets``, ``scipy``) only when used.
"""

from __future__ import annotations

__all__ = ["calibration", "card", "config", "data", "recipe", "runtime", "sets", "trainer"]
