"""Commitment (Taahhüt): an activity (Faaliyet) that an organisation or actor group committed to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from izlek_common.domain import values
from izlek_common.domain.base import TrackedAggregate
from izlek_common.domain.stamp import Stamp
from izlek_plans.domain.errors import InvalidValue, StatusTransitionNotAllowed
from izlek_plans.domain.plan import PLAN_NAMESPACE


class CommitmentStatus(StrEnum):
    """Recorded statuses; ``overdue`` is derived from the due date, never recorded."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


ALLOWED_TRANSITIONS: dict[CommitmentStatus, tuple[CommitmentStatus, ...]] = {
    CommitmentStatus.PLANNED: (CommitmentStatus.IN_PROGRESS, CommitmentStatus.DONE, CommitmentStatus.DROPPED),
    CommitmentStatus.IN_PROGRESS: (CommitmentStatus.PLANNED, CommitmentStatus.DONE, CommitmentStatus.DROPPED),
    CommitmentStatus.DONE: (CommitmentStatus.IN_PROGRESS,),
    CommitmentStatus.DROPPED: (CommitmentStatus.PLANNED, CommitmentStatus.IN_PROGRESS),
}
"""Reopening a done commitment and dropping or reviving one need a reason (see ``change_status``)."""

DETAIL_FIELDS = ("title", "due_date", "position")
ASSIGNMENT_FIELDS = ("actor_group", "organisation_id")
CORRECTABLE_FIELDS = (*DETAIL_FIELDS, *ASSIGNMENT_FIELDS, "status", "target_code")


@dataclass(frozen=True)
class Evidence:
    """A reference to proof of progress: a document number, a URL, a file's SHA-256."""

    reference: str
    description: str | None = None


class Commitment(TrackedAggregate):
    """Who committed to what, by when, and how far it has come."""

    VIEW_FIELDS = (
        "plan_id", "target_code", "code", "title", "actor_group", "organisation_id", "due_date", "position",
        "status", "evidence",
    )

    @staticmethod
    def create_id(plan_id: UUID, code: str) -> UUID:
        return uuid5(PLAN_NAMESPACE, f"commitment:{plan_id}:{code}")

    @classmethod
    def register(
        cls,
        *,
        plan_id: UUID,
        target_code: str,
        code: str,
        title: str,
        stamp: Stamp,
        actor_group: str | None = None,
        organisation_id: str | None = None,
        due_date: date | None = None,
        position: int | None = None,
    ) -> Commitment:
        """Register a commitment under a target of a plan. Someone must be responsible."""
        if actor_group is None and organisation_id is None:
            raise InvalidValue("a commitment needs an actor group, an organisation, or both")
        return cls(
            plan_id=plan_id,
            target_code=values.code(target_code, "target code"),
            code=values.code(code, "commitment code"),
            title=values.text(title, "title"),
            actor_group=None if actor_group is None else values.code(actor_group, "actor group"),
            organisation_id=None if organisation_id is None else values.code(organisation_id, "organisation id"),
            due_date=due_date,
            position=position,
            stamp=stamp,
        )

    @event("Registered")
    def __init__(
        self,
        plan_id: UUID,
        target_code: str,
        code: str,
        title: str,
        actor_group: str | None,
        organisation_id: str | None,
        due_date: date | None,
        position: int | None,
        stamp: Stamp,
    ) -> None:
        self.plan_id = plan_id
        self.target_code = target_code
        self.code = code
        self.title = title
        self.actor_group = actor_group
        self.organisation_id = organisation_id
        self.due_date = due_date
        self.position = position
        self.status = CommitmentStatus.PLANNED.value
        self.evidence: list[Evidence] = []

    def is_overdue(self, today: date) -> bool:
        """Past its due date and neither done nor dropped."""
        return (
            self.due_date is not None
            and self.due_date < today
            and self.status not in (CommitmentStatus.DONE, CommitmentStatus.DROPPED)
        )

    def is_assigned_to(self, organisation_id: str, actor_group_members: tuple[str, ...] = ()) -> bool:
        """Whether the organisation is responsible: named directly, or a member of the actor group."""
        if self.organisation_id is not None:
            return self.organisation_id == organisation_id
        return organisation_id in actor_group_members

    def change_status(self, status: str, stamp: Stamp) -> bool:
        """Move to another status; False when it already has it. Forbidden moves raise."""
        requested = _status(status)
        current = CommitmentStatus(self.status)
        if requested is current:
            return False
        allowed = ALLOWED_TRANSITIONS[current]
        if requested not in allowed:
            raise StatusTransitionNotAllowed(current.value, requested.value, [s.value for s in allowed])
        if requested is CommitmentStatus.DROPPED:
            stamp.requiring_reason("drop a commitment")
        if current in (CommitmentStatus.DONE, CommitmentStatus.DROPPED):
            stamp.requiring_reason(f"reopen a {current.value} commitment")
        self._status_changed(status=requested.value, stamp=stamp)
        return True

    @event("StatusChanged")
    def _status_changed(self, status: str, stamp: Stamp) -> None:
        self.status = status

    def change_details(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Change the title, due date or position; False when nothing differs."""
        changes = self._only_changed(self._checked(changes, DETAIL_FIELDS))
        if not changes:
            return False
        self._details_changed(changes=changes, stamp=stamp)
        return True

    @event("DetailsChanged")
    def _details_changed(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def assign(self, *, actor_group: str | None, organisation_id: str | None, stamp: Stamp) -> bool:
        """Give the commitment to another actor group or organisation; False when nothing differs."""
        changes = self._only_changed(
            self._checked({"actor_group": actor_group, "organisation_id": organisation_id}, ASSIGNMENT_FIELDS)
        )
        if not changes:
            return False
        self._assigned(actor_group=actor_group, organisation_id=organisation_id, stamp=stamp)
        return True

    @event("Assigned")
    def _assigned(self, actor_group: str | None, organisation_id: str | None, stamp: Stamp) -> None:
        self.actor_group = actor_group
        self.organisation_id = organisation_id

    def add_evidence(self, *, reference: str, stamp: Stamp, description: str | None = None) -> None:
        """Attach a piece of evidence."""
        evidence = Evidence(
            reference=values.text(reference, "evidence reference", max_length=2000),
            description=values.optional_text(description, "evidence description"),
        )
        self._evidence_added(evidence=evidence, stamp=stamp)

    @event("EvidenceAdded")
    def _evidence_added(self, evidence: Evidence, stamp: Stamp) -> None:
        self.evidence = [*self.evidence, evidence]

    def correct(self, changes: dict[str, Any], stamp: Stamp) -> bool:
        """Fix a recording mistake in any field, status included, with a reason. Unlike a status change,
        a correction follows no transition rule: it says what should have been recorded."""
        stamp.requiring_reason("correct a commitment")
        changes = self._checked(changes, CORRECTABLE_FIELDS)
        if "status" in changes:
            changes["status"] = _status(changes["status"]).value
        changes = self._only_changed(changes)
        if not changes:
            return False
        self._corrected(changes=changes, stamp=stamp)
        return True

    @event("Corrected")
    def _corrected(self, changes: dict[str, Any], stamp: Stamp) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def _checked(self, changes: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
        unknown = set(changes) - set(allowed)
        if unknown:
            raise InvalidValue(f"commitments have no changeable field(s) {', '.join(sorted(unknown))}")
        checked = dict(changes)
        if "title" in checked:
            checked["title"] = values.text(checked["title"], "title")
        for name in ("actor_group", "organisation_id", "target_code"):
            if checked.get(name) is not None:
                checked[name] = values.code(checked[name], name.replace("_", " "))
        if "due_date" in checked and checked["due_date"] is not None and not isinstance(checked["due_date"], date):
            raise InvalidValue("due date must be a date")
        actor_group = checked.get("actor_group", self.actor_group)
        organisation_id = checked.get("organisation_id", self.organisation_id)
        if actor_group is None and organisation_id is None:
            raise InvalidValue("a commitment needs an actor group, an organisation, or both")
        return checked

    def view(self) -> dict[str, Any]:
        result = super().view()
        result["evidence"] = [{"reference": e.reference, "description": e.description} for e in self.evidence]
        return result


def _status(value: str) -> CommitmentStatus:
    try:
        return CommitmentStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in CommitmentStatus)
        raise InvalidValue(f"'{value}' is not a commitment status; use one of {allowed}") from None
