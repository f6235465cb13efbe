"""What an import of the tracking table did, or would do in a dry run: per row, each activity and indicator
created, changed (with every field before and after) or unchanged."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

Outcome = Literal["created", "changed", "unchanged"]


@dataclass(frozen=True)
class FieldChange:
    """One field of an activity or indicator: its value before and after, and the column it was read from."""

    field: str
    """``title``, ``due_date``, ``status``, ``responsible``, ``name``, ``unit``, ``direction``, ``baseline``,
    ``target_value[2021]`` or ``actual[2021]``."""
    column: str | None
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "column": self.column, "before": _plain(self.before),
                "after": _plain(self.after)}


@dataclass
class EntityChange:
    kind: Literal["activity", "indicator"]
    code: str
    outcome: Outcome
    changes: list[FieldChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "outcome": self.outcome,
                "changes": [c.as_dict() for c in self.changes]}


@dataclass
class RowResult:
    row: int
    entities: list[EntityChange] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        outcomes = {e.outcome for e in self.entities}
        if "created" in outcomes:
            return "created"
        return "changed" if "changed" in outcomes else "unchanged"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "outcome": self.outcome, "entities": [e.as_dict() for e in self.entities]}


@dataclass
class SpreadsheetImportReport:
    """The answer of an import: which file, which plan, and what each row changed (or would change)."""

    plan_id: UUID
    plan_code: str
    file_name: str
    sha256: str
    file_format: str
    sheet: str | None
    header_row: int
    dry_run: bool
    columns: list[dict[str, str]]
    """Each column read: its letter, its header as the file writes it, and what it was read as."""
    ignored_columns: list[str]
    rows: list[RowResult] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        """Whether the import changes anything (in a dry run: would change)."""
        return any(row.outcome != "unchanged" for row in self.rows)

    def summary(self) -> dict[str, Any]:
        entities = Counter((e.kind, e.outcome) for row in self.rows for e in row.entities)
        return {
            "rows": len(self.rows),
            "created": sum(1 for r in self.rows if r.outcome == "created"),
            "changed": sum(1 for r in self.rows if r.outcome == "changed"),
            "unchanged": sum(1 for r in self.rows if r.outcome == "unchanged"),
            "activities": {o: entities[("activity", o)] for o in ("created", "changed", "unchanged")},
            "indicators": {o: entities[("indicator", o)] for o in ("created", "changed", "unchanged")},
        }

    def lines(self) -> list[str]:
        """The report as text, one line per created or changed activity or indicator and per field."""
        lines = []
        for row in self.rows:
            for entity in row.entities:
                if entity.outcome == "unchanged":
                    continue
                lines.append(f"row {row.row}: {entity.outcome} {entity.kind} {entity.code}")
                for change in entity.changes:
                    before = "–" if change.before is None else _plain(change.before)
                    lines.append(f"    {change.field}: {before} → {_plain(change.after)}")
        summary = self.summary()
        verb = "would be" if self.dry_run else "were"
        lines.append(f"{summary['rows']} rows of {self.file_name}: {summary['created']} {verb} created, "
                     f"{summary['changed']} changed, {summary['unchanged']} unchanged"
                     + (" (dry run: nothing written)" if self.dry_run else ""))
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": str(self.plan_id), "plan_code": self.plan_code, "file": self.file_name,
            "sha256": self.sha256, "format": self.file_format, "sheet": self.sheet, "header_row": self.header_row,
            "dry_run": self.dry_run, "columns": self.columns, "ignored_columns": self.ignored_columns,
            "summary": self.summary(), "rows": [r.as_dict() for r in self.rows],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value
