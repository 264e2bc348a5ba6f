"""``python -m tui`` is the same as the ``musicmint-tui`` command."""

import sys

from tui.cli.main import main

sys.exit(main())
