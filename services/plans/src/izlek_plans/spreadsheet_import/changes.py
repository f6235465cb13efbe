"""Bringing a plan in line with the rows of its tracking table, through the application's own commands.

Each row names an activity (a commitment), an indicator, or both. An activity is found by its code
(``Faaliyet Kodu``), else by its text under its target; an indicator by its code (``Gösterge Kodu``), else by
its name. What is not found is created; what differs is changed with the command a person would use (a status
change is a status change, a new due date a change of details, another responsible organisation an assignment),
and what is the same is left alone, so importing a file twice writes nothing the second time. Blank cells change
nothing. Goals and targets are not changed by the table: the rows refer to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from izlek_common.domain.errors import DomainRuleViolation
from izlek_common.domain.stamp import Stamp
from izlek_common.eventsourced.errors import EntityAlreadyExists, EntityNotFound
from izlek_common.importing import ProgressCallback
from izlek_common.spreadsheets import header_key
from izlek_common.tracking_table import Column, Field, header
from izlek_plans.application import PlansApplication
from izlek_plans.domain.commitment import Commitment, CommitmentStatus
from izlek_plans.domain.indicator import Indicator
from izlek_plans.domain.plan import ActionPlan
from izlek_plans.spreadsheet_import.report import EntityChange, FieldChange, RowResult
from izlek_plans.spreadsheet_import.table import RowError, TableRow, TrackingTable

ORGANISATION_ID = re.compile(r"[a-z0-9][a-z0-9._\-/]{0,63}")
"""An organisation as the partners service names it (``cigli-belediyesi``); anything else must be an actor
group of the plan, so that a mistyped group (``AG-KOP``) is refused rather than taken for an organisation."""
_LEADING_WORD = re.compile(r"^(?:amac|hedef|goal|target)\s*")
_LEADING_TOKEN = re.compile(r"^([\w.\-/]+)(?:\s*[:)–—]\s*|\s+)")


class RowProblem(Exception):
    """What is wrong with a row, and in which column."""

    def __init__(self, column: Column | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


class TableImport:
    """One pass over the table's rows, on `app` (the plans service's application, or its rehearsal)."""

    def __init__(self, app: PlansApplication, plan_id: UUID, table: TrackingTable, stamp: Stamp,
                 progress: ProgressCallback | None = None, phase: str = "row") -> None:
        self.app = app
        self.phase = phase
        self.plan_id = plan_id
        self.table = table
        self.stamp = stamp
        self.progress = progress or (lambda done, total, what: None)
        self.plan: ActionPlan = app.get_plan(plan_id)
        self.commitments = {c.code: c for c in app.list_commitments(plan_id)}
        self.indicators = {i.code: i for i in app.list_indicators(plan_id)}
        self.claimed: dict[UUID, int] = {}

    def run(self) -> tuple[list[RowResult], list[RowError]]:
        """Every row's result, and every row's problems; rows whose cells could not be read are passed over."""
        rows = [row for row in self.table.rows if not row.has_errors]
        for row in self.table.rows:
            if row.has_errors:  # passed over, but what it names is taken: a second row of it is an error too
                self._claim_codes_of(row)
        results, problems = [], []
        for done, row in enumerate(rows, start=1):
            result = RowResult(row.number)
            problems += self._row(row, result)
            results.append(result)
            self.progress(done, len(rows), f"{self.phase} {row.number}")
        return results, problems

    # --- a row ---------------------------------------------------------------------------------------

    def _row(self, row: TableRow, result: RowResult) -> list[RowError]:
        problems: list[RowError] = []

        def report(column: Column | None, message: str) -> None:
            problems.append(self.table.error(row.number, column, message))

        try:
            self._check_plan(row)
        except RowProblem as problem:
            report(problem.column, problem.message)
            return problems
        for applies, step in ((row.has_activity, self._activity), (row.has_indicator, self._indicator)):
            if not applies:
                continue
            try:
                result.entities.append(step(row, report))
            except RowProblem as problem:
                report(problem.column, problem.message)
        return problems

    def _check_plan(self, row: TableRow) -> None:
        named = row.get(Field.PLAN)
        if named is None:
            return
        known = {header_key(self.plan.code), header_key(self.plan.title), str(self.plan.id)}
        if self.plan.title_en:
            known.add(header_key(self.plan.title_en))
        if header_key(named) not in known:
            raise RowProblem(Field.PLAN, f"the row is about the plan {named!r}, but the file is imported into "
                                         f"{self.plan.code} ({self.plan.title})")

    def _attempt(self, report: Callable[[Column | None, str], None], column: Column | None,
                 command: Callable[[], Any]) -> bool:
        """Runs one command; a broken rule is reported against `column`, and the row goes on."""
        try:
            command()
        except (DomainRuleViolation, EntityAlreadyExists, EntityNotFound) as exc:
            report(column, str(exc))
            return False
        return True

    # --- activities ----------------------------------------------------------------------------------

    def _activity(self, row: TableRow, report: Callable[[Column | None, str], None]) -> EntityChange:
        code, title = row.get(Field.ACTIVITY_CODE), row.get(Field.ACTIVITY)
        target_code = self._target(row.get(Field.TARGET)) if row.get(Field.TARGET) is not None else None
        if target_code is not None and row.get(Field.GOAL) is not None:
            self._check_goal(row.get(Field.GOAL), target_code)
        responsible = self._responsible(row.get(Field.RESPONSIBLE)) if row.get(Field.RESPONSIBLE) else None
        existing = self._find_commitment(code, title, target_code)
        if existing is None:
            return self._register(row, code, title, target_code, responsible, report)
        self._claim(existing.id, existing.code, row, "activity")
        if target_code is not None and target_code != existing.target_code:
            raise RowProblem(Field.TARGET, f"activity {existing.code} is under target {existing.target_code}, not "
                             f"{target_code}; moving it is a correction of the record, made on its own with a "
                             "reason (PATCH /commitments/{id} with kind correction)")
        change = EntityChange("activity", existing.code, "unchanged")
        details: dict[str, Any] = {}
        if code is not None and title is not None and title != existing.title:
            details["title"] = title
        due_date = row.get(Field.DUE_DATE)
        if due_date is not None and due_date != existing.due_date:
            details["due_date"] = due_date
        if details and self._attempt(report, Field.ACTIVITY if "title" in details else Field.DUE_DATE,
                                     lambda: self.app.change_commitment(existing.id, details, self.stamp)):
            change.changes += [FieldChange(name, self._header(Field.ACTIVITY if name == "title" else Field.DUE_DATE),
                                           getattr(existing, name), value) for name, value in details.items()]
        if responsible is not None and responsible != (existing.actor_group, existing.organisation_id):
            actor_group, organisation_id = responsible
            if self._attempt(report, Field.RESPONSIBLE, lambda: self.app.assign_commitment(
                    existing.id, self.stamp, actor_group=actor_group, organisation_id=organisation_id)):
                change.changes.append(FieldChange("responsible", self._header(Field.RESPONSIBLE),
                                                  self._responsible_text(existing.actor_group,
                                                                         existing.organisation_id),
                                                  self._responsible_text(*responsible)))
        status = row.get(Field.STATUS)
        if status is not None and status != existing.status and self._attempt(
                report, Field.STATUS, lambda: self.app.change_commitment_status(existing.id, status, self.stamp)):
            change.changes.append(FieldChange("status", self._header(Field.STATUS), existing.status, status))
        if change.changes:
            change.outcome = "changed"
            self._remember_commitment(existing.id)
        return change

    def _register(self, row: TableRow, code: str | None, title: str | None, target_code: str | None,
                  responsible: tuple[str | None, str | None] | None,
                  report: Callable[[Column | None, str], None]) -> EntityChange:
        if title is None:
            raise RowProblem(Field.ACTIVITY, f"the plan has no activity {code}; a new activity needs its text")
        if target_code is None:
            raise RowProblem(Field.TARGET, "a new activity needs the target (Hedef) it belongs to")
        if responsible is None:
            raise RowProblem(Field.RESPONSIBLE, "a new activity needs a responsible organisation or actor group "
                                                "(Sorumlu Kurum)")
        code = code or self._new_activity_code(target_code)
        actor_group, organisation_id = responsible
        due_date = row.get(Field.DUE_DATE)
        position = 1 + max((c.position or 0 for c in self.commitments.values() if c.target_code == target_code),
                           default=0)
        with self._as_problem(Field.ACTIVITY):
            commitment_id = self.app.register_commitment(
                self.plan_id, self.stamp, target_code=target_code, code=code, title=title, actor_group=actor_group,
                organisation_id=organisation_id, due_date=due_date, position=position)
        self._claim(commitment_id, code, row, "activity")
        change = EntityChange("activity", code, "created", [
            FieldChange("code", self._header(Field.ACTIVITY_CODE), None, code),
            FieldChange("title", self._header(Field.ACTIVITY), None, title),
            FieldChange("target", self._header(Field.TARGET), None, target_code),
            FieldChange("responsible", self._header(Field.RESPONSIBLE), None,
                        self._responsible_text(actor_group, organisation_id)),
        ])
        if due_date is not None:
            change.changes.append(FieldChange("due_date", self._header(Field.DUE_DATE), None, due_date))
        status = row.get(Field.STATUS)
        if status is not None and status != CommitmentStatus.PLANNED and self._attempt(
                report, Field.STATUS, lambda: self.app.change_commitment_status(commitment_id, status, self.stamp)):
            change.changes.append(FieldChange("status", self._header(Field.STATUS), None, status))
        self._remember_commitment(commitment_id)
        return change

    def _find_commitment(self, code: str | None, title: str | None, target_code: str | None) -> Commitment | None:
        if code is not None:
            commitment_id = Commitment.create_id(self.plan_id, code)
            return self.app.get_commitment(commitment_id) if self.app.exists(commitment_id) else None
        key = header_key(title)
        matches = [c for c in self.commitments.values()
                   if header_key(c.title) == key and (target_code is None or c.target_code == target_code)]
        if len(matches) > 1:
            codes = ", ".join(sorted(c.code for c in matches))
            raise RowProblem(Field.ACTIVITY, f"{len(matches)} activities{' of ' + target_code if target_code else ''}"
                                             f" have this text ({codes}); say which one in a Faaliyet Kodu "
                                             "(Activity code) column")
        return self.app.get_commitment(matches[0].id) if matches else None

    def _new_activity_code(self, target_code: str) -> str:
        pattern = re.compile(rf"^{re.escape(target_code)}-A(\d+)$")
        numbers = [int(m.group(1)) for c in self.commitments if (m := pattern.match(c))]
        number = max(numbers, default=0) + 1
        while self.app.exists(Commitment.create_id(self.plan_id, f"{target_code}-A{number:02d}")):
            number += 1
        return f"{target_code}-A{number:02d}"

    def _remember_commitment(self, commitment_id: UUID) -> None:
        commitment = self.app.get_commitment(commitment_id)
        self.commitments[commitment.code] = commitment

    def _target(self, text: str) -> str:
        targets = self.plan.targets
        found = _part(text, {code: (t.number, t.title, t.title_en) for code, t in targets.items()})
        if found is None:
            raise RowProblem(Field.TARGET, f"the plan has no target {text!r}; its targets are "
                                           f"{', '.join(targets) or 'none yet'}")
        return found

    def _check_goal(self, text: str, target_code: str) -> None:
        goals = self.plan.goals
        found = _part(text, {code: (None if g.number is None else str(g.number), g.title, g.title_en)
                             for code, g in goals.items()})
        if found is None:
            raise RowProblem(Field.GOAL, f"the plan has no goal {text!r}; its goals are {', '.join(goals)}")
        goal_code = self.plan.targets[target_code].goal_code
        if found != goal_code:
            raise RowProblem(Field.GOAL, f"target {target_code} belongs to goal {goal_code}, not {found}")

    def _responsible(self, text: str) -> tuple[str | None, str | None]:
        groups: dict[str, str] = {}
        for code, group in self.plan.actor_groups.items():
            for name in (code, group.name, group.name_en):
                if name:
                    groups[header_key(name)] = code
        actor_group = organisation_id = None
        for part in (p.strip() for p in re.split(r"[;\n]", text)):
            if not part:
                continue
            if header_key(part) in groups:
                found = groups[header_key(part)]
                if actor_group not in (None, found):
                    raise RowProblem(Field.RESPONSIBLE, f"names two actor groups ({actor_group} and {found}); an "
                                                        "activity has one")
                actor_group = found
            elif ORGANISATION_ID.fullmatch(part):
                if organisation_id not in (None, part):
                    raise RowProblem(Field.RESPONSIBLE, f"names two organisations ({organisation_id} and {part}); "
                                                        "an activity has one, beside its actor group")
                organisation_id = part
            else:
                names = "; ".join(f"{g.code} {g.name}" for g in self.plan.actor_groups.values())
                raise RowProblem(Field.RESPONSIBLE, f"{part!r} is neither an actor group of the plan "
                                                    f"({names or 'it has none'}) nor an organisation id such as "
                                                    "cigli-belediyesi; separate a group and an organisation by ';'")
        return actor_group, organisation_id

    def _responsible_text(self, actor_group: str | None, organisation_id: str | None) -> str:
        group = self.plan.actor_groups.get(actor_group or "")
        return "; ".join(p for p in (group.name if group else actor_group, organisation_id) if p)

    # --- indicators ----------------------------------------------------------------------------------

    def _indicator(self, row: TableRow, report: Callable[[Column | None, str], None]) -> EntityChange:
        code, name = row.get(Field.INDICATOR_CODE), row.get(Field.INDICATOR)
        existing = self._find_indicator(code, name)
        if existing is None:
            return self._define(row, code, name, report)
        self._claim(existing.id, existing.code, row, "indicator")
        change = EntityChange("indicator", existing.code, "unchanged")
        details: dict[str, Any] = {}
        if code is not None and name is not None and name != existing.name:
            details["name"] = name
        unit = row.get(Field.UNIT)
        if unit is not None and unit != existing.unit:
            details["unit"] = unit
        if details and self._attempt(report, Field.INDICATOR if "name" in details else Field.UNIT,
                                     lambda: self.app.change_indicator(existing.id, details, self.stamp)):
            change.changes += [FieldChange(n, self._header(Field.INDICATOR if n == "name" else Field.UNIT),
                                           getattr(existing, n), v) for n, v in details.items()]
        direction = row.get(Field.DIRECTION)
        if direction is not None and direction != existing.direction:
            report(Field.DIRECTION, f"indicator {existing.code} is defined as {existing.direction}; its direction "
                                    "cannot change (define another indicator)")
        baseline = row.get(Field.BASELINE)
        if baseline is not None and baseline != existing.baseline and self._attempt(
                report, Field.BASELINE, lambda: self.app.set_indicator_baseline(
                    existing.id, baseline, self.stamp, period=existing.baseline_period)):
            change.changes.append(FieldChange("baseline", self._header(Field.BASELINE), existing.baseline, baseline))
        change.changes += self._period_values(row, existing, report)
        if change.changes:
            change.outcome = "changed"
            self._remember_indicator(existing.id)
        return change

    def _define(self, row: TableRow, code: str | None, name: str | None,
                report: Callable[[Column | None, str], None]) -> EntityChange:
        if name is None:
            raise RowProblem(Field.INDICATOR, f"the plan has no indicator {code}; a new indicator needs its name")
        unit = row.get(Field.UNIT)
        if unit is None:
            raise RowProblem(Field.UNIT, "a new indicator needs its unit (Birim), e.g. Kişi, Adet, %")
        code = code or self._new_indicator_code()
        direction = row.get(Field.DIRECTION) or "increase"
        baseline = row.get(Field.BASELINE)
        with self._as_problem(Field.INDICATOR):
            indicator_id = self.app.define_indicator(self.plan_id, self.stamp, code=code, name=name, unit=unit,
                                                     direction=direction, baseline=baseline)
        self._claim(indicator_id, code, row, "indicator")
        change = EntityChange("indicator", code, "created", [
            FieldChange("code", self._header(Field.INDICATOR_CODE), None, code),
            FieldChange("name", self._header(Field.INDICATOR), None, name),
            FieldChange("unit", self._header(Field.UNIT), None, unit),
            FieldChange("direction", self._header(Field.DIRECTION), None, direction),
        ])
        if baseline is not None:
            change.changes.append(FieldChange("baseline", self._header(Field.BASELINE), None, baseline))
        change.changes += self._period_values(row, self.app.get_indicator(indicator_id), report)
        self._remember_indicator(indicator_id)
        return change

    def _period_values(self, row: TableRow, indicator: Indicator,
                       report: Callable[[Column | None, str], None]) -> list[FieldChange]:
        changes = []
        for column in row.periods():
            value, period = row.get(column), column.period
            if column.kind == "target_value":
                before = indicator.targets.get(period)
                if value != before and self._attempt(report, column, lambda p=period, v=value:
                                                     self.app.set_indicator_target(indicator.id, p, v, self.stamp)):
                    changes.append(FieldChange(f"target_value[{period}]", self._header(column), before, value))
            else:
                actual = indicator.actuals.get(period)
                before = None if actual is None else actual.value
                if value != before and self._attempt(report, column, lambda p=period, v=value:
                                                     self.app.record_indicator_actual(indicator.id, p, v,
                                                                                      self.stamp)):
                    changes.append(FieldChange(f"actual[{period}]", self._header(column), before, value))
        return changes

    def _find_indicator(self, code: str | None, name: str | None) -> Indicator | None:
        if code is not None:
            indicator_id = Indicator.create_id(self.plan_id, code)
            return self.app.get_indicator(indicator_id) if self.app.exists(indicator_id) else None
        matches = [i for i in self.indicators.values() if header_key(i.name) == header_key(name)]
        if len(matches) > 1:
            raise RowProblem(Field.INDICATOR, f"{len(matches)} indicators have this name "
                                              f"({', '.join(sorted(i.code for i in matches))}); say which one in a "
                                              "Gösterge Kodu (Indicator code) column")
        return self.app.get_indicator(matches[0].id) if matches else None

    def _new_indicator_code(self) -> str:
        numbers = [int(m.group(1)) for c in self.indicators if (m := re.fullmatch(r"I(\d+)", c))]
        number = max(numbers, default=0) + 1
        while self.app.exists(Indicator.create_id(self.plan_id, f"I{number}")):
            number += 1
        return f"I{number}"

    def _remember_indicator(self, indicator_id: UUID) -> None:
        indicator = self.app.get_indicator(indicator_id)
        self.indicators[indicator.code] = indicator

    # --- shared --------------------------------------------------------------------------------------

    def _claim(self, entity_id: UUID, code: str, row: TableRow, what: str) -> None:
        """One row per activity or indicator: a second row would make the import depend on the rows' order."""
        first = self.claimed.setdefault(entity_id, row.number)
        if first != row.number:
            column = Field.ACTIVITY_CODE if what == "activity" else Field.INDICATOR_CODE
            if self.table.position(column) is None:
                column = Field.ACTIVITY if what == "activity" else Field.INDICATOR
            raise RowProblem(column, f"{what} {code} is in row {first} already; give it one row")

    def _claim_codes_of(self, row: TableRow) -> None:
        if row.get(Field.ACTIVITY_CODE) is not None:
            self.claimed.setdefault(Commitment.create_id(self.plan_id, row.get(Field.ACTIVITY_CODE)), row.number)
        if row.get(Field.INDICATOR_CODE) is not None:
            self.claimed.setdefault(Indicator.create_id(self.plan_id, row.get(Field.INDICATOR_CODE)), row.number)

    @contextmanager
    def _as_problem(self, column: Column) -> Iterator[None]:
        try:
            yield
        except (DomainRuleViolation, EntityAlreadyExists, EntityNotFound) as exc:
            raise RowProblem(column, str(exc)) from None

    def _header(self, column: Column) -> str:
        position = self.table.position(column)
        return position.header if position is not None else header(column)


def _part(text: str, parts: dict[str, tuple[str | None, str, str | None]]) -> str | None:
    """The code of the goal or target `text` names: its code, its title, or its code or number followed by
    the title (``T1.1 İzmir Kadın…``, ``Hedef 1.1: …``)."""
    keys: dict[str, str] = {}
    numbers: dict[str, str] = {}
    for code, (number, title, title_en) in parts.items():
        keys[header_key(code)] = code
        for name in (title, title_en):
            if name:
                keys.setdefault(header_key(name), code)
        if number:
            numbers[header_key(number)] = code
    key = header_key(text)
    if key in keys:
        return keys[key]
    stripped = _LEADING_WORD.sub("", key)
    token = _LEADING_TOKEN.match(stripped)
    first = header_key(token.group(1) if token else stripped)
    return keys.get(first) or numbers.get(first)

