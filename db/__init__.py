"""Storage: SQLAlchemy schema, sessions, migrations, writes, reads and trend computations."""
