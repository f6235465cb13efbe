"""A plans event store filled with a realistic history, fast: the İzmir plan, many commitments registered under
it, and a stream of the changes people make to commitments (titles, statuses, evidence), written through the
plans application's own aggregates and event store in large saves."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from izlek_common.domain.stamp import Author, Stamp
from izlek_plans.application import PlansApplication
from izlek_plans.domain.commitment import Commitment
from izlek_plans.domain.plan import ActionPlan
from izlek_plans.importer import import_plan_file

IZMIR_PLAN = Path(__file__).resolve().parent.parent / "examples" / "izmir" / "plan.yaml"
BENCH_AUTHOR = Author(subject="bench@izlek.local", role="coordinator", name="benchmark")
BENCH_ORGANISATION = "kedv"


@dataclasses.dataclass
class SeededPlan:
    plan_id: UUID
    commitments: list[Commitment]
    """The registered commitments, as saved (the history below keeps changing these objects)."""


def seed_plan(application: PlansApplication, commitments: int) -> SeededPlan:
    """Import the İzmir plan and register `commitments` more commitments under its first target, in one save."""
    report = import_plan_file(application, IZMIR_PLAN, BENCH_AUTHOR)
    assert report.plan_id is not None
    plan = application.repository.get(report.plan_id)
    assert isinstance(plan, ActionPlan)
    target_code = next(iter(plan.targets))
    stamp = Stamp(author=BENCH_AUTHOR)
    registered = []
    for number in range(commitments):
        commitment = Commitment.register(plan_id=plan.id, target_code=target_code, code=f"BENCH-{number:06d}",
                                         title=f"Benchmark commitment {number}", stamp=stamp,
                                         organisation_id=BENCH_ORGANISATION)
        plan.attach_commitment(commitment.id, commitment.code, stamp)
        registered.append(commitment)
    application.save(plan, *registered)
    return SeededPlan(plan.id, registered)


def change_commitment(commitment: Commitment, step: int, stamp: Stamp) -> None:
    """One change of the mix: mostly new titles, some status moves (planned and in progress in turn), and
    now and then a piece of evidence."""
    kind = step % 10
    if kind < 6:
        commitment.change_details({"title": f"{commitment.code} revised, step {step}"}, stamp)
    elif kind < 9:
        commitment.change_status("in_progress" if commitment.status == "planned" else "planned", stamp)
    else:
        commitment.add_evidence(stamp=stamp, reference=f"https://kedv.org.tr/belge/{step}",
                                description="Toplantı tutanağı")


def append_history(application: PlansApplication, seeded: SeededPlan, events: int, *, save_size: int = 5000,
                   progress: Callable[[int], None] | None = None) -> int:
    """Append `events` changes, spread over the seeded commitments; returns the last notification id."""
    stamp = Stamp(author=BENCH_AUTHOR)
    commitments = seeded.commitments
    written = 0
    while written < events:
        size = min(save_size, events - written)
        touched = {}
        for step in range(written, written + size):
            commitment = commitments[step % len(commitments)]
            change_commitment(commitment, step, stamp)
            touched[commitment.id] = commitment
        application.save(*touched.values())
        written += size
        if progress is not None:
            progress(written)
    return application.recorder.max_notification_id() or 0
