"""The service's state database (SQLAlchemy, Alembic): what it knows of plans and partners, the index of its
subscriptions, webhook secrets, deliveries and their attempts."""
