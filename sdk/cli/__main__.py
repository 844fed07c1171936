"""``python -m sdk.cli``: the same as the ``destkit`` command."""

from sdk.cli._main import main

raise SystemExit(main())
