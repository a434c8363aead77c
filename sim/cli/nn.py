"""`mcusim nn` (the model path, mcusim.nn.cli)."""

from mcusim.nn.cli import main, register  # noqa: F401
