"""The ``destkit`` command line: one subcommand a module, each a thin face over the library."""

from sdk.cli._main import main

__all__ = ["main"]
