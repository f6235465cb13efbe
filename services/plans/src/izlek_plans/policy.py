"""Who may change what in the plans service (design, sections 1 and 5)."""

from __future__ import annotations

from collections.abc import Callable

from izlek_common.domain.stamp import Author
from izlek_common.eventsourced.errors import NotPermitted
from izlek_plans.domain.commitment import Commitment
from izlek_plans.domain.plan import ActionPlan

PLAN_EDITORS = frozenset({"coordinator", "admin"})
"""Create and edit plans, goals, targets, commitments, criteria and indicators; assign commitments."""

ORGANISATION_BOUND = frozenset({"liaison", "member"})
"""Update the status and evidence of commitments assigned to their own organisation."""


def require_plan_editor(author: Author, action: str) -> None:
    if author.role not in PLAN_EDITORS:
        raise NotPermitted(
            f"role '{author.role}' may not {action}; allowed roles: {', '.join(sorted(PLAN_EDITORS))}"
        )


REPORT_PUBLISHERS = PLAN_EDITORS | {"auditor"}
"""Publish a report of a plan (KEDV staff audit and export reports)."""


def require_report_publisher(author: Author, action: str) -> None:
    if author.role not in REPORT_PUBLISHERS:
        raise NotPermitted(
            f"role '{author.role}' may not {action}; allowed roles: {', '.join(sorted(REPORT_PUBLISHERS))}"
        )


def require_commitment_role(author: Author, action: str) -> None:
    """Checked before anything is read, so a role that may never do this learns so first."""
    if author.role not in PLAN_EDITORS | ORGANISATION_BOUND:
        raise NotPermitted(
            f"role '{author.role}' may not {action}; allowed roles: coordinator, admin, and liaison or member "
            "of the responsible organisation"
        )


def require_commitment_updater(author: Author, commitment: Commitment, plan: Callable[[], ActionPlan],
                               action: str) -> None:
    """Editors may update any commitment; liaisons and members only those assigned to their organisation,
    directly or through an actor group that names it (``plan`` is read only for them)."""
    if author.role in PLAN_EDITORS:
        return
    if author.role in ORGANISATION_BOUND and author.organisation_id:
        group = plan().actor_groups.get(commitment.actor_group or "")
        members = group.organisation_ids if group else ()
        if commitment.is_assigned_to(author.organisation_id, members):
            return
        raise NotPermitted(
            f"{author.organisation_id} may not {action}: commitment {commitment.code} is assigned to "
            f"{commitment.organisation_id or commitment.actor_group}"
        )
    raise NotPermitted(
        f"role '{author.role}' may not {action}; allowed roles: coordinator, admin, and liaison or member "
        "of the responsible organisation"
    )
