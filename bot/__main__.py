"""`python -m bot` is the same as the `flagbot` console script."""

from bot.cli import main

raise SystemExit(main())
