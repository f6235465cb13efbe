"""How each integration event changes the read models: one small handler per contract, by service."""

from izlek_gateway.projections import partners, plans
from izlek_gateway.projections.registry import HANDLERS, Projection, UnknownEventType, UnprojectableEvent

__all__ = ["HANDLERS", "Projection", "UnknownEventType", "UnprojectableEvent", "partners", "plans"]
