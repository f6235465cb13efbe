"""The auditor's report file: a plan's success-criteria dashboard and the history of its commitments, as of a
recorded time and valid at a valid time, in one workbook that can be sent on.

Sheets: a cover (which plan, as of when, valid at when, produced by whom and when; for a published report its
code, who published it, the SHA-256 of its contents and how much is known differently since), the success
criteria (value, target, achievement, computed band and the band set by hand with its reason, coverage such as
"0 of 6"), commitments by actor group and status, overdue commitments, indicators per period, quota compliance,
and the commitments' history (who, role, organisation, recorded at, valid at, reason, change or correction, the
fields changed). A published report adds the differences known since publication and the later changes that
make them. Times are Turkey's (UTC+3); figures are numbers, exact to 15 digits as Excel keeps them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from izlek_common.auth import Principal
from izlek_common.domain.bands import Band
from izlek_common.tracking_table import Language, status_label
from izlek_gateway.files.cells import figure, style_header_row, write_cell
from izlek_gateway.files.history import HistoryLine

BAND_LABELS_EN = {
    "target_met": "Target met", "successful": "Successful", "good": "Good", "in_progress": "In progress",
    "needs_improvement": "Needs improvement",
}

TEXT: dict[str, tuple[str, str]] = {
    "cover": ("Kapak", "Cover"),
    "criteria": ("Başarı Kriterleri", "Success criteria"),
    "commitments": ("Taahhütler", "Commitments"),
    "overdue": ("Gecikenler", "Overdue"),
    "indicators": ("Göstergeler", "Indicators"),
    "quota": ("Kota Uyumu", "Quota compliance"),
    "history": ("Taahhüt Geçmişi", "Commitment history"),
    "differences": ("Farklar", "Differences"),
    "later": ("Sonraki Değişiklikler", "Later changes"),
    "title": ("Başarı kriterleri ve taahhüt geçmişi raporu", "Success criteria and commitment history report"),
    "published_title": ("Yayımlanmış rapor", "Published report"),
    "plan": ("Plan", "Plan"),
    "plan_code": ("Plan kodu", "Plan code"),
    "plan_id": ("Plan kimliği", "Plan id"),
    "as_of": ("Kayıtlara göre (asOf)", "As recorded by (asOf)"),
    "valid_at": ("Geçerli olduğu an (validAt)", "Valid at (validAt)"),
    "now": ("şimdi (üretildiği an)", "now (when produced)"),
    "overdue_day": ("Gecikmenin hesaplandığı gün", "Day overdue is taken on"),
    "produced_by": ("Hazırlayan", "Produced by"),
    "role": ("Rol", "Role"),
    "organisation": ("Kurum", "Organisation"),
    "produced_at": ("Hazırlanma zamanı", "Produced at"),
    "times": ("Zamanlar", "Times"),
    "times_note": ("Türkiye saati (UTC+3)", "Turkey's time (UTC+3)"),
    "source": ("Kaynak", "Source"),
    "source_text": ("Izlek ağ geçidinin okuma modelleri; olaylardan yeniden üretilmiştir",
                    "Izlek gateway read models, reproduced from the recorded events"),
    "report_code": ("Rapor kodu", "Report code"),
    "report_title": ("Rapor başlığı", "Report title"),
    "note": ("Not", "Note"),
    "published_at": ("Yayımlanma zamanı (raporun asOf'u)", "Published at (the report's asOf)"),
    "report_date": ("Rapor tarihi (raporun validAt'i)", "Report date (the report's validAt)"),
    "published_by": ("Yayımlayan", "Published by"),
    "hash": ("İçeriğin SHA-256 özeti", "SHA-256 of the contents"),
    "difference_count": ("Yayımdan sonra bilinen farklar", "Differences known since publication"),
    "later_count": ("Farkları doğuran sonraki değişiklikler", "Later changes that make them"),
    "criteria_count": ("Başarı kriteri", "Success criteria"),
    "commitment_count": ("Taahhüt (geciken)", "Commitments (overdue)"),
    "history_count": ("Geçmiş kaydı", "History entries"),
    "part": ("parça", "part"),
    "all": ("Tümü", "All"),
    "yes": ("Evet", "Yes"),
    "no": ("Hayır", "No"),
    "change": ("Değişiklik", "Change"),
    "correction": ("Düzeltme", "Correction"),
    "created": ("oluşturuldu", "created"),
}

CRITERIA_HEADERS = (
    ("Kod", "Code"), ("Kriter", "Criterion"), ("Grup", "Group"), ("Amaç", "Goal"), ("Ölçü türü", "Measure"),
    ("Birim", "Unit"), ("Değer", "Value"), ("Hedef", "Target"), ("Başarı %", "Achievement %"),
    ("Hesaplanan bant", "Computed band"), ("Bant kodu", "Band code"), ("Elle belirlenen bant", "Band set by hand"),
    ("Gerekçe", "Reason"), ("Kapsam", "Coverage"), ("Dönem", "Period"), ("Not", "Note"),
)
GROUP_HEADERS = (("Aktör grubu", "Actor group"), ("Ad", "Name"), ("Toplam", "Total"))
OVERDUE_HEADERS = (("Faaliyet Kodu", "Activity code"), ("Faaliyet", "Activity"), ("Hedef", "Target"),
                   ("Aktör grubu", "Actor group"), ("Kurum", "Organisation"), ("Bitiş Tarihi", "Due date"),
                   ("Durum", "Status"))
INDICATOR_HEADERS = (
    ("Gösterge Kodu", "Indicator code"), ("Gösterge", "Indicator"), ("Birim", "Unit"), ("Yön", "Direction"),
    ("Başlangıç Değeri", "Baseline"), ("Dönem", "Period"), ("Hedef", "Target"), ("Gerçekleşen", "Actual"),
    ("Başarı %", "Achievement %"), ("Hesaplanan bant", "Computed band"), ("Elle belirlenen bant", "Band set by hand"),
    ("Gerekçe", "Reason"), ("Not", "Note"),
)
QUOTA_HEADERS = (
    ("Protokol", "Protocol"), ("Başlık", "Title"), ("Tür", "Kind"), ("Durum", "Status"), ("Kota %", "Quota %"),
    ("Belediye", "Municipality"), ("Dönem", "Period"), ("Onaylanan (TRY)", "Confirmed (TRY)"),
    ("Onay bekleyen (TRY)", "Awaiting confirmation (TRY)"), ("İtiraz edilen (TRY)", "Disputed (TRY)"),
    ("Beyan edilen hacim (TRY)", "Declared volume (TRY)"), ("Pay %", "Share %"), ("Kotaya uygun", "Quota met"),
    ("Not", "Note"),
)
HISTORY_HEADERS = (
    ("Faaliyet Kodu", "Activity code"), ("Faaliyet", "Activity"), ("Sürüm", "Version"), ("Olay", "Event"),
    ("Tür", "Kind"), ("Kim", "Who"), ("Ad", "Name"), ("Rol", "Role"), ("Kurum", "Organisation"),
    ("Kayıt zamanı", "Recorded at"), ("Geçerlilik zamanı", "Valid at"), ("Kesinlik", "Precision"),
    ("Gerekçe", "Reason"), ("Değişen alanlar", "Fields changed"),
)
DIFFERENCE_HEADERS = (("Yer", "Where"), ("Yayımlanan", "Published"), ("Şimdi", "Now"))
LATER_HEADERS = (
    ("Varlık türü", "Entity"), ("Olay", "Event"), ("Tür", "Kind"), ("Kim", "Who"), ("Rol", "Role"),
    ("Kurum", "Organisation"), ("Kayıt zamanı", "Recorded at"), ("Geçerlilik zamanı", "Valid at"),
    ("Gerekçe", "Reason"), ("Veri", "Data"),
)
STATUSES = ("planned", "in_progress", "done", "dropped")


@dataclass(frozen=True)
class PublishedReport:
    """A published report as the gateway's ``Report`` type answers it (camelCase keys, as in GraphQL)."""

    code: str
    title: str
    note: str | None
    published_at: datetime
    valid_at: datetime
    published_by: str
    published_by_role: str
    published_by_organisation: str | None
    contents_hash: str
    differences: list[dict[str, Any]]
    later_changes: list[dict[str, Any]]


@dataclass(frozen=True)
class ReportFile:
    """What the workbook holds. ``dashboard`` is the plan's dashboard as plain JSON (``Report.contents``)."""

    language: Language
    plan_id: str
    dashboard: dict[str, Any]
    history: Sequence[HistoryLine]
    produced_by: Principal
    produced_at: datetime
    as_of: datetime | None = None
    valid_at: datetime | None = None
    published: PublishedReport | None = None


def report_workbook(report: ReportFile) -> bytes:
    """The report as an XLSX workbook."""
    workbook = Workbook()
    writer = _Writer(workbook, report.language)
    writer.cover(report)
    writer.criteria(report.dashboard.get("criteria") or [])
    progress = report.dashboard.get("commitments") or {}
    writer.commitment_groups(progress)
    writer.overdue(progress.get("overdue_commitments") or [])
    writer.indicators(report.dashboard.get("indicators") or [])
    writer.quota(report.dashboard.get("quota_compliance") or [])
    writer.history(report.history)
    if report.published is not None:
        writer.differences(report.published.differences)
        writer.later_changes(report.published.later_changes)
    workbook.properties.creator = "Izlek"
    workbook.properties.title = f"{report.dashboard.get('plan_title', '')}: {writer.text('title')}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def coverage_summary(coverage: dict[str, Any] | None) -> str | None:
    """"0 of 6 (0 of 1 metropolitan, 0 of 5 district)", as the dashboard's ``ProtocolCoverage.summary`` says it."""
    if not coverage:
        return None
    target = coverage.get("target")
    total = f"{coverage.get('covered')} of {target}" if target is not None else f"{coverage.get('covered')} (no target)"
    shares = coverage.get("breakdown") or []
    if not shares:
        return total
    parts = ", ".join(f"{s['covered']} of {s['target']} {s['label']}" for s in shares)
    return f"{total} ({parts})"


class _Writer:
    def __init__(self, workbook: Workbook, language: Language) -> None:
        self.workbook = workbook
        self.language = language
        self.index = 0 if language == "tr" else 1
        self._first = True

    def text(self, key: str) -> str:
        return TEXT[key][self.index]

    def band(self, band: Any) -> str | None:
        if band is None:
            return None
        value = str(band)
        if self.language == "en":
            return BAND_LABELS_EN.get(value, value)
        try:
            return Band(value).turkish_label
        except ValueError:
            return value

    def sheet(self, key: str, headers: Sequence[tuple[str, str]] | None = None,
              widths: Sequence[int] = ()) -> Any:
        if self._first:
            sheet = self.workbook.active
            sheet.title = self.text(key)
            self._first = False
        else:
            sheet = self.workbook.create_sheet(self.text(key))
        if headers is not None:
            sheet.append([h[self.index] for h in headers])
            style_header_row(sheet, 1)
            sheet.freeze_panes = "A2"
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        return sheet

    def rows(self, sheet: Any, rows: Sequence[Sequence[Any]]) -> None:
        for values in rows:
            empty = sheet.max_row == 1 and all(cell.value is None for cell in sheet[1])
            number = 1 if empty else sheet.max_row + 1
            for column, value in enumerate(values, start=1):
                write_cell(sheet.cell(number, column), value)
        if sheet.max_row > 1:
            sheet.auto_filter.ref = sheet.dimensions

    # --- sheets ----------------------------------------------------------------------------------------

    def cover(self, report: ReportFile) -> None:
        sheet = self.sheet("cover", widths=(42, 90))
        dashboard = report.dashboard
        principal = report.produced_by
        now = self.text("now")
        published = report.published
        title = self.text("title") if published is None else f"{self.text('published_title')} {published.code}"
        progress = dashboard.get("commitments") or {}
        lines: list[tuple[str, Any]] = [
            (title, None),
            (self.text("plan"), dashboard.get("plan_title")),
            (self.text("plan_code"), dashboard.get("plan_code")),
            (self.text("plan_id"), report.plan_id),
            (self.text("as_of"), report.as_of or now),
            (self.text("valid_at"), report.valid_at or now),
            (self.text("overdue_day"), _day(dashboard.get("today"))),
            (self.text("produced_by"), principal.subject + (f" ({principal.name})" if principal.name else "")),
            (self.text("role"), str(principal.role)),
            (self.text("organisation"), principal.organisation_id),
            (self.text("produced_at"), report.produced_at),
            (self.text("times"), self.text("times_note")),
            (self.text("source"), self.text("source_text")),
        ]
        if published is not None:
            lines += [
                (self.text("report_code"), published.code),
                (self.text("report_title"), published.title),
                (self.text("note"), published.note),
                (self.text("published_at"), published.published_at),
                (self.text("report_date"), published.valid_at),
                (self.text("published_by"), f"{published.published_by} ({published.published_by_role}"
                                            + (f", {published.published_by_organisation})"
                                               if published.published_by_organisation else ")")),
                (self.text("hash"), published.contents_hash),
                (self.text("difference_count"), len(published.differences)),
                (self.text("later_count"), len(published.later_changes)),
            ]
        lines += [
            (self.text("criteria_count"), len(dashboard.get("criteria") or [])),
            (self.text("commitment_count"), f"{progress.get('total', 0)} ({progress.get('overdue', 0)})"),
            (self.text("history_count"), len(report.history)),
        ]
        self.rows(sheet, lines)
        sheet.auto_filter.ref = None
        style_header_row(sheet, 1)

    def criteria(self, criteria: list[dict[str, Any]]) -> None:
        sheet = self.sheet("criteria", CRITERIA_HEADERS, (10, 60, 8, 8, 12, 14, 10, 10, 12, 18, 18, 18, 30, 40, 10, 40))
        rows = []
        for criterion in criteria:
            measurement = criterion.get("measurement") or {}
            override = criterion.get("override") or {}
            rows.append(self._measured(criterion["code"], criterion.get("text"), criterion.get("group"),
                                       criterion.get("goal_code"), measurement, override))
            for number, part in enumerate(criterion.get("parts") or [], start=1):
                rows.append(self._measured(f"{criterion['code']} ({self.text('part')} {number})", part.get("text"),
                                           criterion.get("group"), criterion.get("goal_code"),
                                           part.get("measurement") or {}, {}))
            for period_override in criterion.get("period_overrides") or []:
                rows.append([criterion["code"], None, None, None, None, None, None, None, None, None, None,
                             self.band(period_override.get("band")), period_override.get("reason"), None,
                             period_override.get("period"), None])
        self.rows(sheet, rows)

    def _measured(self, code: str, text: Any, group: Any, goal: Any, measurement: dict[str, Any],
                  override: dict[str, Any]) -> list[Any]:
        band = measurement.get("band")
        return [
            code, text, group, goal, measurement.get("kind"), measurement.get("unit"),
            figure(measurement.get("value")), figure(measurement.get("target")),
            figure(measurement.get("achievement_percent")), self.band(band), None if band is None else str(band),
            self.band(override.get("band")), override.get("reason"), coverage_summary(measurement.get("coverage")),
            measurement.get("period"), measurement.get("note"),
        ]

    def commitment_groups(self, progress: dict[str, Any]) -> None:
        headers = (*GROUP_HEADERS, *((status_label(s, "tr"), status_label(s, "en")) for s in STATUSES),
                   ("Geciken", "Overdue"))
        sheet = self.sheet("commitments", headers, (14, 50, 10, 12, 14, 12, 10, 10))

        def counts(item: dict[str, Any]) -> list[Any]:
            by_status = {s["status"]: s["count"] for s in item.get("by_status") or []}
            return [item.get("total", 0), *(by_status.get(s, 0) for s in STATUSES), item.get("overdue", 0)]

        rows = [[g.get("actor_group"), g.get("name"), *counts(g)] for g in progress.get("groups") or []]
        rows.append([self.text("all"), None, *counts(progress)])
        self.rows(sheet, rows)

    def overdue(self, lines: list[dict[str, Any]]) -> None:
        sheet = self.sheet("overdue", OVERDUE_HEADERS, (14, 60, 10, 14, 24, 14, 14))
        self.rows(sheet, [[c.get("code"), c.get("title"), c.get("target_code"), c.get("actor_group"),
                           c.get("organisation_id"), _day(c.get("due_date")),
                           status_label(c.get("status") or "", self.language)] for c in lines])

    def indicators(self, indicators: list[dict[str, Any]]) -> None:
        sheet = self.sheet("indicators", INDICATOR_HEADERS, (14, 40, 10, 10, 12, 10, 12, 12, 12, 18, 18, 30, 40))
        rows = []
        for indicator in indicators:
            head = [indicator.get("code"), indicator.get("name"), indicator.get("unit"), indicator.get("direction"),
                    figure(indicator.get("baseline"))]
            for period in indicator.get("periods") or [None]:
                if period is None:
                    rows.append([*head, *([None] * 8)])
                    continue
                assessment = period.get("assessment") or {}
                override = period.get("override") or {}
                rows.append([*head, period.get("period"), figure(period.get("target")), figure(period.get("actual")),
                             figure(assessment.get("achievement_percent")), self.band(assessment.get("band")),
                             self.band(override.get("band")), override.get("reason"), assessment.get("note")])
        self.rows(sheet, rows)

    def quota(self, quotas: list[dict[str, Any]]) -> None:
        sheet = self.sheet("quota", QUOTA_HEADERS, (30, 40, 18, 12, 10, 30, 10, 16, 16, 16, 16, 10, 12, 50))
        rows = []
        for quota in quotas:
            head = [quota.get("code"), quota.get("title"), quota.get("kind"), quota.get("status"),
                    figure(quota.get("quota_percent"))]
            for line in quota.get("compliance") or [None]:
                if line is None:
                    rows.append([*head, *([None] * 7), None, quota.get("note")])
                    continue
                met = line.get("met")
                rows.append([*head, line.get("municipality_name"), line.get("period"),
                             figure(line.get("confirmed_total")), figure(line.get("awaiting_confirmation_total")),
                             figure(line.get("disputed_total")), figure(line.get("declared_volume")),
                             figure(line.get("share_percent")),
                             None if met is None else self.text("yes" if met else "no"), quota.get("note")])
        self.rows(sheet, rows)

    def history(self, lines: Sequence[HistoryLine]) -> None:
        sheet = self.sheet("history", HISTORY_HEADERS, (14, 50, 8, 18, 12, 28, 20, 14, 24, 20, 20, 10, 40, 80))
        self.rows(sheet, [[
            line.commitment_code, line.commitment_title, line.version, line.name, self.text(line.kind)
            if line.kind in ("change", "correction") else line.kind, line.author, line.author_name, line.role,
            line.organisation, line.recorded_at, line.valid_at, line.valid_precision, line.reason,
            self._fields(line),
        ] for line in lines])

    def _fields(self, line: HistoryLine) -> str:
        parts = []
        for name, before, after in line.changes:
            if before is None and after in (None, [], {}):
                continue
            if before is None:
                parts.append(f"{name}: {_shown(after)}")
            else:
                parts.append(f"{name}: {_shown(before)} → {_shown(after)}")
        return "; ".join(parts)

    def differences(self, differences: list[dict[str, Any]]) -> None:
        sheet = self.sheet("differences", DIFFERENCE_HEADERS, (60, 40, 40))
        self.rows(sheet, [[d.get("path"), _shown(d.get("published")), _shown(d.get("now"))] for d in differences])

    def later_changes(self, changes: list[dict[str, Any]]) -> None:
        sheet = self.sheet("later", LATER_HEADERS, (14, 18, 12, 28, 14, 24, 20, 20, 40, 80))
        self.rows(sheet, [[
            c.get("entityType"), c.get("name"), self.text(c["kind"]) if c.get("kind") in ("change", "correction")
            else c.get("kind"), c.get("author"), c.get("role"), c.get("organisation"), _moment(c.get("recordedAt")),
            _moment(c.get("validAt")), c.get("reason"), _shown(c.get("data")),
        ] for c in changes])


def _shown(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _day(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value
