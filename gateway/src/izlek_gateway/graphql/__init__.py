"""The GraphQL API over the read models: one module per type, the per-request context and the schema."""
