"""Fine-tuning on new labelled articles (``stancekit.finetune``, ``stancekit finetune``).

Modules, in the order a run uses them: :mod:`.args` (settings), :mod:`.data` (documents
to examples, the dev split, mixing), :mod:`.checks` (input checks), :mod:`.run` (the
Trainer run, calibration, comparison, saving) and :mod:`.result` (the result and card).
:mod:`.calibrate` refits only the calibration temperatures (``stancekit.recalibrate``).
"""

from stancekit.finetuning.args import FineTuneArgs, FineTuneArgsError
from stancekit.finetuning.calibrate import CalibrationError, CalibrationResult, recalibrate
from stancekit.finetuning.checks import FineTuneInputError
from stancekit.finetuning.result import FineTuneResult
from stancekit.finetuning.run import finetune, load_base

__all__ = [
    "CalibrationError",
    "CalibrationResult",
    "FineTuneArgs",
    "FineTuneArgsError",
    "FineTuneInputError",
    "FineTuneResult",
    "finetune",
    "load_base",
    "recalibrate",
]
