"""Versioned schema migrations, ``NNNN_name.sql``, applied in order by ``store.migrate``.

One file serves both engines. ``{{timestamp}}`` and ``{{bytes}}`` mark the only column types
that differ (see ``engine.Dialect.ddl_types``); statements end with ``;`` at the end of a line.
"""
