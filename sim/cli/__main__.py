"""`python -m mcusim.sim.cli` is the `mcusim` command."""

import sys

from mcusim.sim.cli import main

sys.exit(main())
