"""``python -m stancekit``: the command line (:mod:`stancekit.cli`)."""

import sys

from stancekit.cli import main

sys.exit(main())
