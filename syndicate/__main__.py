"""Allows ``python -m syndicate``."""

from syndicate.cli import main

raise SystemExit(main())
