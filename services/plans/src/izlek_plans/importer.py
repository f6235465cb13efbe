"""Import an action plan from the YAML transcription format (see ``examples/izmir/README.md``).

Everything goes through the application's own commands, so the import is audited like any other change.
Ids are derived from the codes in the file, so running the import twice changes nothing.

Two files beside the plan complete it when they exist: ``timeline.yaml`` gives imported facts their valid time,
and ``protocols.yaml`` says what a success criterion that counts protocols counts. A count measure with unit
``protocol`` counts protocols in effect (signed, in force, renewed); when a template of ``protocol_templates``
names the criterion's group (``success_criteria_id: DI1``), only the protocols made from it, of kind
``standard_protocol``: ``{"entity": "protocol", "kind": "standard_protocol", "statuses": "signed,in_force,renewed",
"template": "prot-tpl-…"}``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml

from izlek_common.domain.counts import PROTOCOL, PROTOCOL_STATUSES_IN_EFFECT, STANDARD_PROTOCOL_KIND, Counted
from izlek_common.domain.errors import DomainRuleViolation
from izlek_common.domain.stamp import Author, Stamp
from izlek_common.eventsourced.errors import EntityAlreadyExists
from izlek_common.eventstore import eventsourcing_env
from izlek_plans.application import PlansApplication
from izlek_plans.domain.commitment import Commitment
from izlek_plans.domain.criterion import SuccessCriterion
from izlek_plans.domain.plan import ActionPlan


class PlanFileError(ValueError):
    """The file is not an action plan in the expected format."""


@dataclass
class ImportReport:
    plan_id: UUID | None = None
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0

    def count(self, outcome: str, kind: str) -> None:
        if outcome == "unchanged":
            self.unchanged += 1
        else:
            bucket = self.created if outcome == "created" else self.changed
            bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def events_written(self) -> bool:
        return bool(self.created or self.changed)


Progress = Callable[[int, int, str], None]


def import_plan_file(app: PlansApplication, path: Path, author: Author,
                     progress: Progress | None = None) -> ImportReport:
    """Load a plan file and bring the application's state in line with it."""
    raw = path.read_bytes()
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PlanFileError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("plan"), dict):
        raise PlanFileError(f"{path} has no 'plan' section")
    timeline = _timeline(path.parent / "timeline.yaml")
    templates = _protocol_templates(path.parent / "protocols.yaml")
    reason = f"imported from {path.name} (sha256 {hashlib.sha256(raw).hexdigest()[:12]})"
    # A rehearsal on an empty store in memory meets every problem of the file before anything is written.
    rehearsal = PlansApplication(env=eventsourcing_env("memory://"))
    try:
        PlanImport(rehearsal, document, author, reason, timeline, None, templates).run()
    except PlanFileError as exc:
        raise PlanFileError(f"{path}: {exc}; nothing was imported") from None
    finally:
        rehearsal.close()
    return PlanImport(app, document, author, reason, timeline, progress, templates).run()


class PlanImport:
    def __init__(self, app: PlansApplication, document: dict[str, Any], author: Author, reason: str,
                 timeline: dict[str, date], progress: Progress | None,
                 templates: dict[str, str] | None = None) -> None:
        self.app = app
        self.templates = templates or {}
        self.doc = document
        self.author = author
        self.reason = reason
        self.report = ImportReport()
        self.progress = progress or (lambda done, total, what: None)
        plan = document["plan"]
        presented = timeline.get(plan.get("presented_at_event_id") or "")
        self.valid_at = datetime.combine(presented, time.min, tzinfo=UTC) if presented else None

    def stamp(self) -> Stamp:
        return Stamp(author=self.author, valid_at=self.valid_at, reason=self.reason)

    def run(self) -> ImportReport:
        with _naming_the_problem("the file's structure"):
            steps = self._steps()
        for done, (what, step) in enumerate(steps, start=1):
            with _naming_the_problem(what):
                kind, outcome = step()
            self.report.count(outcome, kind)
            self.progress(done, len(steps), what)
        return self.report

    def _steps(self) -> list[tuple[str, Callable[[], tuple[str, str]]]]:
        plan = self.doc["plan"]
        plan_id = ActionPlan.create_id(_required(plan, "id", "plan"))
        self.report.plan_id = plan_id
        steps: list[tuple[str, Callable[[], tuple[str, str]]]] = [("plan", lambda: self._plan(plan, plan_id))]
        for group in self.doc.get("actor_groups") or []:
            steps.append((f"actor group {group['id']}", lambda g=group: self._actor_group(plan_id, g)))
        for goal in self.doc.get("goals") or []:
            steps.append((f"goal {goal['id']}", lambda g=goal: self._goal(plan_id, g)))
            for target in goal.get("targets") or []:
                steps.append((f"target {target['id']}", lambda t=target, g=goal: self._target(plan_id, g, t)))
        for priority in self.doc.get("priorities") or []:
            steps.append((f"priority {priority['id']}", lambda p=priority: self._priority(plan_id, p)))
        for goal in self.doc.get("goals") or []:
            for target in goal.get("targets") or []:
                position = 0
                for responsibility in target.get("responsibilities") or []:
                    for activity in responsibility.get("activities") or []:
                        position += 1
                        steps.append((f"activity {activity['id']}", lambda a=activity, r=responsibility,
                                      t=target, n=position: self._commitment(plan_id, t, r, a, n)))
        for row in self.doc.get("success_criteria") or []:
            for criterion in row.get("criteria") or []:
                steps.append((f"criterion {criterion['id']}", lambda c=criterion, r=row:
                              self._criterion(plan_id, r, c)))
        twice = sorted(what for what, count in Counter(what for what, _ in steps).items() if count > 1)
        if twice:
            raise PlanFileError(f"{', '.join(twice)} listed more than once")
        return steps

    def _plan(self, plan: dict[str, Any], plan_id: UUID) -> tuple[str, str]:
        fields = {
            "title": _required(plan, "title", "plan"),
            "title_en": plan.get("title_en"),
            "region": _required(plan, "region", "plan"),
            "description": plan.get("preparation"),
        }
        if not self.app.exists(plan_id):
            self.app.start_plan(self.stamp(), code=plan["id"], **fields)
            return "plan", "created"
        before = self.app.get_plan(plan_id).version
        after = self.app.change_plan(plan_id, fields, self.stamp())
        return "plan", _outcome(before, after)

    def _actor_group(self, plan_id: UUID, group: dict[str, Any]) -> tuple[str, str]:
        before = self.app.get_plan(plan_id).version
        after = self.app.define_actor_group(
            plan_id, self.stamp(), code=group["id"], name=group["name"], name_en=group.get("name_en"),
            organisation_ids=tuple(group.get("partner_ids") or ()),
        )
        return "actor_group", "created" if after != before else "unchanged"

    def _goal(self, plan_id: UUID, goal: dict[str, Any]) -> tuple[str, str]:
        plan = self.app.get_plan(plan_id)
        fields = {"number": goal.get("number"), "title": goal["title"], "title_en": goal.get("title_en")}
        if goal["id"] not in plan.goals:
            self.app.add_goal(plan_id, self.stamp(), code=goal["id"], **fields)
            return "goal", "created"
        return "goal", _outcome(plan.version, self.app.change_goal(plan_id, goal["id"], fields, self.stamp()))

    def _target(self, plan_id: UUID, goal: dict[str, Any], target: dict[str, Any]) -> tuple[str, str]:
        plan = self.app.get_plan(plan_id)
        fields = {"number": _text(target.get("number")), "title": target["title"],
                  "title_en": target.get("title_en")}
        if target["id"] not in plan.targets:
            self.app.add_target(plan_id, self.stamp(), goal_code=goal["id"], code=target["id"], **fields)
            return "target", "created"
        return "target", _outcome(plan.version,
                                  self.app.change_target(plan_id, target["id"], fields, self.stamp()))

    def _priority(self, plan_id: UUID, priority: dict[str, Any]) -> tuple[str, str]:
        before = self.app.get_plan(plan_id).version
        after = self.app.define_priority(
            plan_id, self.stamp(), code=priority["id"], number=priority.get("number"), text=priority["text"],
            text_en=priority.get("text_en"), goal_code=priority.get("related_goal_inferred"),
        )
        return "priority", "created" if after != before else "unchanged"

    def _commitment(self, plan_id: UUID, target: dict[str, Any], responsibility: dict[str, Any],
                    activity: dict[str, Any], position: int) -> tuple[str, str]:
        commitment_id = Commitment.create_id(plan_id, activity["id"])
        if not self.app.exists(commitment_id):
            self.app.register_commitment(
                plan_id, self.stamp(), target_code=target["id"], code=activity["id"], title=activity["text"],
                actor_group=responsibility["actor_group_id"], position=position,
            )
            return "commitment", "created"
        before = self.app.get_commitment(commitment_id).version
        after = self.app.change_commitment(commitment_id, {"title": activity["text"], "position": position},
                                           self.stamp())
        return "commitment", _outcome(before, after)

    def _criterion(self, plan_id: UUID, row: dict[str, Any], criterion: dict[str, Any]) -> tuple[str, str]:
        measure, parts = _measure_and_parts(criterion, self.templates.get(row.get("id") or ""))
        criterion_id = SuccessCriterion.create_id(plan_id, criterion["id"])
        if not self.app.exists(criterion_id):
            self.app.define_criterion(
                plan_id, self.stamp(), code=criterion["id"], text=criterion["text"], measure=measure, parts=parts,
                goal_code=row.get("related_goal_inferred"), priority_code=row.get("related_priority_inferred"),
                group=row.get("id"),
            )
            return "criterion", "created"
        before = self.app.get_criterion(criterion_id).version
        after = self.app.change_criterion(criterion_id, self.stamp(), text=criterion["text"], measure=measure,
                                          parts=parts)
        return "criterion", _outcome(before, after)


def _measure_and_parts(criterion: dict[str, Any],
                       template: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if criterion.get("parts"):
        parts = [{"text": p["text"], "measure": _measure(p.get("measure") or {}, template)}
                 for p in criterion["parts"]]
        return {"kind": "composite", "note": criterion.get("note")}, parts
    return _measure(criterion.get("measure") or {}, template), []


def _measure(data: dict[str, Any], template: str | None) -> dict[str, Any]:
    measure = {k: data.get(k) for k in ("kind", "target", "unit", "note")}
    if data.get("breakdown"):
        measure["breakdown"] = dict(data["breakdown"])
    if data.get("kind") == "count" and data.get("unit"):
        measure["counts"] = _counted(str(data["unit"]), template).as_counts()
    return measure


def _counted(unit: str, template: str | None) -> Counted:
    """What a count measure of `unit` counts; protocols in effect, and made from `template` when one is named."""
    if unit != PROTOCOL:
        return Counted(entity=unit)
    if template is None:
        return Counted(entity=PROTOCOL, statuses=PROTOCOL_STATUSES_IN_EFFECT)
    return Counted(entity=PROTOCOL, kind=STANDARD_PROTOCOL_KIND, statuses=PROTOCOL_STATUSES_IN_EFFECT,
                   template=template)


def _timeline(path: Path) -> dict[str, date]:
    """Day-precision dates of the timeline's events, to give imported facts their valid time."""
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    dates = {}
    for event in document.get("events") or []:
        if event.get("date_precision") == "day" and event.get("date"):
            dates[event["id"]] = date.fromisoformat(str(event["date"]))
    return dates


def _protocol_templates(path: Path) -> dict[str, str]:
    """The protocol template each success-criteria group is about (``success_criteria_id`` -> template id)."""
    if not path.exists():
        return {}
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PlanFileError(f"{path} is not valid YAML: {exc}") from None
    templates = document.get("protocol_templates") if isinstance(document, dict) else None
    if not isinstance(templates, list):
        return {}
    return {str(t["success_criteria_id"]): str(t["id"]) for t in templates
            if isinstance(t, dict) and t.get("success_criteria_id") and t.get("id")}


def _required(data: dict[str, Any], key: str, what: str) -> Any:
    if not data.get(key):
        raise PlanFileError(f"the {what} has no '{key}'")
    return data[key]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _outcome(before: int, after: int) -> str:
    return "unchanged" if before == after else "changed"


@contextmanager
def _naming_the_problem(what: str) -> Iterator[None]:
    """Turns a malformed entry (a missing field, a wrong type, a broken rule) into a PlanFileError naming it."""
    try:
        yield
    except KeyError as exc:
        raise PlanFileError(f"{what}: the field {exc.args[0]!r} is missing") from None
    except (TypeError, AttributeError) as exc:
        raise PlanFileError(f"{what}: an entry has the wrong shape ({exc})") from None
    except (DomainRuleViolation, EntityAlreadyExists) as exc:
        raise PlanFileError(f"{what}: {exc}") from None
