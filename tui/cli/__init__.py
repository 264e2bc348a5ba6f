"""The command line: the dashboard launcher and the ``wait``/``export``/``config``/
``simulate`` subcommands."""

from tui.cli.main import main

__all__ = ["main"]
