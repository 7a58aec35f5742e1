"""Shared storage for a fleet of replicas: the PostgreSQL store, its migrations, and which store to use.

SQLite in ``data_dir`` stays the embedded default; a database URL turns on
PostgreSQL, which every replica shares (docs/deploy.md).
"""
