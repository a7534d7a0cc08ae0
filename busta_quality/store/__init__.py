"""busta's SQL store: SQLAlchemy tables, queries and Alembic migrations.

It records what happened (gate runs, per-expectation outcomes, alerts, deliveries) and
knows nothing of rules or channels. SQLite by default, any SQLAlchemy URL by config.
"""

from busta_quality.store.db import Store, open_store

__all__ = ["Store", "open_store"]
