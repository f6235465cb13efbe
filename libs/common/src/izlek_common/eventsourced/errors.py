"""Errors of the services' use cases (domain rule violations live in ``izlek_common.domain.errors``)."""

from __future__ import annotations


class PlansServiceError(Exception):
    """Base class of the plans service's errors."""


class EntityNotFound(PlansServiceError, LookupError):
    """No plan, commitment, criterion or indicator with that id (or not at the asked time)."""


class EntityAlreadyExists(PlansServiceError):
    """An entity with the same code already exists in the plan."""


class VersionMismatch(PlansServiceError):
    """The entity changed since the version the client read (optimistic concurrency)."""

    def __init__(self, entity_id: object, expected: int | None, actual: int | None) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{entity_id} is at version {actual}, not {expected}; read it again and retry"
            if expected is not None
            else f"{entity_id} was changed by someone else at the same time; read it again and retry"
        )


class NotPermitted(PlansServiceError, PermissionError):
    """The principal's role or organisation does not allow this change."""
