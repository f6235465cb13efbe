"""Shared machinery of the services' ``eventsourcing`` applications: reading at a time, history, storage
of value objects, publishing as CloudEvents, and the service-layer errors."""
