"""The store: SQLAlchemy models, the Alembic migrations and the queries the adapters need.

SQLite (WAL, foreign keys on) is the embedded default; PostgreSQL is the production store.
"""
