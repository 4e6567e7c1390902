"""``python -m switchgeard``: the same as the ``switchgeard`` command."""

from switchgeard.daemon import main

raise SystemExit(main())
