"""``python -m tsattn``: the command line of :mod:`tsattn.cli`."""

from tsattn.cli import main

raise SystemExit(main())
