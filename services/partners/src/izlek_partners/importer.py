"""Import organisations and protocols from the YAML transcription format (see ``examples/izmir/README.md``).

Everything goes through the application's own commands, so an import is authorised and audited like any
other change, and ids are derived from the codes in the files (``Organisation.create_id(code)``,
``Protocol.create_id(code)``): what is missing is created, what differs is changed, and a second run of the
same file writes no event at all.

Organisations (``partners.yaml``) are registered parents first (a topological sort on ``parent_id``); a
``type: null`` (nothing in the enum fits) becomes ``other``; ``contact_as_printed`` gives the contact.

Protocols (``protocols.yaml``):

- ``protocols`` (signed): drafted with their parties, then moved to ``signed``, with the source's quote and line
  as the evidence reference.
- ``protocol_templates``: a draft (kind ``protocol_template``) with the parties it names (İBB) and its purchase
  commitment (the quota stays ``null`` where the source prints none). A draft may have fewer than two parties.
- ``other_protocol_mentions`` without parties or status: a draft with no parties, noted in the report.

**Year precision is kept, never rounded to a day.** A protocol "signed in 2019" keeps ``term_start: "2019"``,
a partial ISO date stored and published exactly as written ("2019", "2019-09" or "2019-09-04"). Its events
(drafted, signed) need an instant as their valid time: they get the first moment of the printed period,
2019-01-01T00:00Z, together with ``valid_precision="year"`` on their :class:`Stamp`, which history shows beside the
valid time, so that nobody reads "1 January 2019" as a fact. Entries without a date (the template, the other
mentions) take the date of the report they come from (``source.date``, "2021-06", precision ``month``).
Organisations are registered with the import's own time as their valid time: the files give no date for them.

Re-imports: an organisation whose details differ is changed (``DetailsChanged``). A draft protocol is revised
and its parties added or removed; a protocol past the draft is *corrected* (a ``Corrected`` event with the
import as its reason, valid from the same date as the facts it corrects), because a changed transcription of the
same report is a recording mistake, not a real-world amendment. A status moves forward from draft to signed only;
a protocol that has moved on in Izlek since (in force, terminated, ...) is left as it is, and the report says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml

from izlek_common.domain import values
from izlek_common.domain.errors import DomainRuleViolation
from izlek_common.domain.stamp import Author, Stamp
from izlek_partners.application import PartnersApplication
from izlek_partners.domain.organisation import Contact, Organisation, OrganisationType, slug
from izlek_partners.domain.protocol import EDITABLE_PARTIES, Party, Protocol, ProtocolStatus


class PartnersFileError(ValueError):
    """The file is not a partners or protocols file in the expected format; nothing was written."""


@dataclass
class ImportReport:
    """What an import did: items created, changed or unchanged per kind, events written, and notes on how
    entries that do not fit the model were read."""

    file: str
    items: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    events: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, outcome: str, kind: str) -> None:
        self.items[kind] = self.items.get(kind, 0) + 1
        if outcome == "unchanged":
            self.unchanged += 1
        else:
            bucket = self.created if outcome == "created" else self.changed
            bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def events_written(self) -> bool:
        return self.events > 0 or bool(self.created or self.changed)

    def summary(self) -> str:
        contents = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in self.items.items()) or "nothing"
        if not self.events_written:
            text = f"{self.file}: {contents}; already up to date, nothing written"
        else:
            created = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in self.created.items()) or "nothing"
            changed = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in self.changed.items()) or "nothing"
            text = (f"{self.file}: {contents}; created {created}; changed {changed}; {self.unchanged} unchanged; "
                    f"{self.events} events written")
        return "\n".join([text, *(f"  note: {note}" for note in self.notes)])


Progress = Callable[[int, int, str], None]
Step = tuple[str, str, Callable[[], str]]


def import_partners_file(app: PartnersApplication, path: Path, author: Author,
                         progress: Progress | None = None) -> ImportReport:
    """Bring the application's organisations in line with a partners file (``examples/izmir/partners.yaml``)."""
    document, reason = _load(path, "partners")
    return _run(app, PartnersImport(app, document, path, author, reason).steps(), path, progress,
                ImportReport(path.name))


def import_protocols_file(app: PartnersApplication, path: Path, author: Author,
                          progress: Progress | None = None) -> ImportReport:
    """Bring the application's protocols in line with a protocols file (``examples/izmir/protocols.yaml``).
    The organisations they name must be imported first."""
    document, reason = _load(path, "protocols", "protocol_templates", "other_protocol_mentions")
    report = ImportReport(path.name)
    steps = ProtocolsImport(app, document, path, author, reason, report).steps()
    return _run(app, steps, path, progress, report)


def _load(path: Path, *sections: str) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PartnersFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PartnersFileError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not any(isinstance(document.get(s), list) for s in sections):
        raise PartnersFileError(f"{path} has no {' or '.join(repr(s) for s in sections)} list")
    for section in sections:
        entries = document.get(section)
        if entries is not None and (not isinstance(entries, list)
                                    or not all(isinstance(e, dict) for e in entries)):
            raise PartnersFileError(f"{path}: '{section}' must be a list of entries")
    return document, f"imported from {path.name} (sha256 {hashlib.sha256(raw).hexdigest()[:12]})"


def _run(app: PartnersApplication, steps: list[Step], path: Path, progress: Progress | None,
         report: ImportReport) -> ImportReport:
    advance = progress or (lambda done, total, what: None)
    first = app.recorder.max_notification_id() or 0
    try:
        for done, (kind, code, step) in enumerate(steps, start=1):
            report.count(step(), kind)
            advance(done, len(steps), code)
    finally:
        report.events = (app.recorder.max_notification_id() or 0) - first
    return report


def _entry_id(entry: dict[str, Any], what: str, path: Path) -> str:
    code = entry.get("id")
    try:
        return slug(code, f"{what} id")
    except DomainRuleViolation as exc:
        raise PartnersFileError(f"{path}: a {what} has a bad id: {exc}") from None


def _check_unique(codes: list[str], what: str, path: Path) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise PartnersFileError(f"{path}: {what} {code} is listed twice")
        seen.add(code)


# --- organisations -----------------------------------------------------------------------------------------


class PartnersImport:
    def __init__(self, app: PartnersApplication, document: dict[str, Any], path: Path, author: Author,
                 reason: str) -> None:
        self.app = app
        self.path = path
        self.author = author
        self.reason = reason
        self.entries = document.get("partners") or []

    def stamp(self) -> Stamp:
        return Stamp(author=self.author, reason=self.reason)

    def steps(self) -> list[Step]:
        """Every entry checked against the domain's rules first, so that a bad file writes nothing."""
        fields = {_entry_id(entry, "partner", self.path): entry for entry in self.entries}
        _check_unique([_entry_id(entry, "partner", self.path) for entry in self.entries], "partner", self.path)
        checked = {}
        for code, entry in fields.items():
            details = self._details(code, entry)
            try:
                Organisation.register(code=code, stamp=self.stamp(), **details)
            except DomainRuleViolation as exc:
                raise PartnersFileError(f"{self.path}: partner {code}: {exc}") from None
            checked[code] = details
        return [("organisation", code, lambda c=code: self._organisation(c, checked[c]))
                for code in self._parents_first(checked)]

    def _details(self, code: str, entry: dict[str, Any]) -> dict[str, Any]:
        contact = entry.get("contact_as_printed")
        if contact is not None and not isinstance(contact, dict):
            raise PartnersFileError(f"{self.path}: partner {code}: contact_as_printed must be a mapping")
        aliases = entry.get("aliases") or []
        if not isinstance(aliases, list):
            raise PartnersFileError(f"{self.path}: partner {code}: aliases must be a list")
        return {
            "name": entry.get("name"),
            "short_name": entry.get("short_name"),
            "type": OrganisationType.OTHER.value if entry.get("type") is None else entry["type"],
            "parent_code": entry.get("parent_id"),
            "aliases": tuple(aliases),
            "scope": entry.get("scope"),
            "contact": Contact(**{k: _text_or_none(contact.get(k)) for k in ("address", "phone", "email")})
            if contact else Contact(),
        }

    def _parents_first(self, details: dict[str, dict[str, Any]]) -> list[str]:
        """Codes in file order, except that every parent comes before its children."""
        ordered: list[str] = []
        state: dict[str, str] = {}

        def visit(code: str, chain: tuple[str, ...]) -> None:
            if state.get(code) == "done":
                return
            if state.get(code) == "visiting":
                raise PartnersFileError(f"{self.path}: parent cycle {' -> '.join((*chain, code))}")
            state[code] = "visiting"
            parent = details[code]["parent_code"]
            if parent is not None:
                if parent in details:
                    visit(parent, (*chain, code))
                elif not self.app.exists(Organisation.create_id(parent)):
                    raise PartnersFileError(f"{self.path}: partner {code} names a parent {parent} that is "
                                            "neither in the file nor registered")
            state[code] = "done"
            ordered.append(code)

        for code in details:
            visit(code, ())
        return ordered

    def _organisation(self, code: str, details: dict[str, Any]) -> str:
        organisation_id = Organisation.create_id(code)
        if not self.app.exists(organisation_id):
            self.app.register_organisation(self.stamp(), code=code, **details)
            return "created"
        before = self.app.get_organisation(organisation_id).version
        after = self.app.change_organisation(organisation_id, details, self.stamp())
        return _outcome(before, after)


# --- protocols -----------------------------------------------------------------------------------------------


@dataclass
class ProtocolEntry:
    code: str
    fields: dict[str, Any]
    parties: tuple[Party, ...]
    status: str
    stamp: Stamp
    evidence_reference: str | None
    note: str | None = None


class ProtocolsImport:
    def __init__(self, app: PartnersApplication, document: dict[str, Any], path: Path, author: Author,
                 reason: str, report: ImportReport) -> None:
        self.app = app
        self.doc = document
        self.path = path
        self.author = author
        self.reason = reason
        self.report = report
        source = document.get("source") if isinstance(document.get("source"), dict) else {}
        self.source_file = source.get("file") or path.name
        self.report_date = source.get("date")

    def steps(self) -> list[Step]:
        """Every entry checked first (fields, dates, parties registered), so that a bad file writes nothing."""
        entries = [self._signed(e) for e in self.doc.get("protocols") or []]
        entries += [self._template(e) for e in self.doc.get("protocol_templates") or []]
        entries += [self._mention(e) for e in self.doc.get("other_protocol_mentions") or []]
        _check_unique([entry.code for entry in entries], "protocol", self.path)
        for entry in entries:
            try:
                Protocol.draft(code=entry.code, stamp=entry.stamp, parties=_party_dicts(entry.parties),
                               **entry.fields)
            except DomainRuleViolation as exc:
                raise PartnersFileError(f"{self.path}: protocol {entry.code}: {exc}") from None
            for party in entry.parties:
                if not self.app.exists(Organisation.create_id(party.organisation_code)):
                    raise PartnersFileError(
                        f"{self.path}: protocol {entry.code} names {party.organisation_code}, which is not "
                        "registered; import the partners file first (izlek import-partners)")
            if entry.note:
                self.report.notes.append(entry.note)
        return [("protocol", entry.code, lambda e=entry: self._protocol(e)) for entry in entries]

    # Reading the three sections of the file.

    def _signed(self, entry: dict[str, Any]) -> ProtocolEntry:
        code = _entry_id(entry, "protocol", self.path)
        status = entry.get("status") or ProtocolStatus.DRAFT.value
        if status not in (ProtocolStatus.DRAFT, ProtocolStatus.SIGNED):
            raise PartnersFileError(f"{self.path}: protocol {code} is '{status}'; an import knows draft and signed "
                                    "protocols only (it does not invent the steps in between)")
        when = entry.get("date")
        parties = entry.get("parties")
        if not isinstance(parties, list):
            raise PartnersFileError(f"{self.path}: protocol {code}: parties must be a list")
        return ProtocolEntry(
            code=code,
            fields=self._fields(entry, code, scope=entry.get("content"), term_start=when),
            parties=tuple(self._party(code, p) for p in parties),
            status=status,
            stamp=self._stamp(code, when, entry.get("date_precision")),
            evidence_reference=self._evidence(entry),
        )

    def _template(self, entry: dict[str, Any]) -> ProtocolEntry:
        code = _entry_id(entry, "protocol template", self.path)
        if (entry.get("status") or "draft") != ProtocolStatus.DRAFT:
            raise PartnersFileError(f"{self.path}: protocol template {code} must be a draft")
        sides = entry.get("parties") or {}
        if not isinstance(sides, dict):
            raise PartnersFileError(f"{self.path}: protocol template {code}: parties must be a mapping of sides")
        parties = []
        for side, role in (("local_government_side", "municipality"), ("cooperative_side", "cooperative")):
            for partner_id in (sides.get(side) or {}).get("partner_ids") or []:
                parties.append(self._party(code, {"partner_id": partner_id, "role": role}))
        local = sides.get("local_government_side") or {}
        scope = "\n".join(text for text in (entry.get("how"), local.get("source_quote")) if text) or None
        commitment = entry.get("purchase_commitment")
        if commitment is not None and not isinstance(commitment, dict):
            raise PartnersFileError(f"{self.path}: protocol template {code}: purchase_commitment must be a mapping")
        purchase_commitment = None if commitment is None else {
            "quota_percent": commitment.get("quota_percent"),
            "categories": commitment.get("categories") or [],
            "note": _commitment_note(commitment.get("source_quote"), commitment.get("quota_note")),
        }
        return ProtocolEntry(
            code=code,
            fields=self._fields(entry, code, scope=scope, purchase_commitment=purchase_commitment),
            parties=tuple(parties),
            status=ProtocolStatus.DRAFT.value,
            stamp=self._stamp(code, None, None),
            evidence_reference=None,
        )

    def _mention(self, entry: dict[str, Any]) -> ProtocolEntry:
        code = _entry_id(entry, "protocol mention", self.path)
        parties = entry.get("parties")
        if parties is not None and not isinstance(parties, list):
            raise PartnersFileError(f"{self.path}: protocol {code}: parties must be a list or null")
        status = entry.get("status")
        if status not in (None, ProtocolStatus.DRAFT):
            raise PartnersFileError(f"{self.path}: protocol mention {code} is '{status}'; list it under "
                                    "'protocols' instead")
        note = None
        if not parties or status is None:
            unknown = " and ".join(w for w, missing in (("parties", not parties), ("status", status is None))
                                   if missing)
            note = (f"protocol {code} is only mentioned (its {unknown} unknown): kept as a draft"
                    f"{' with no parties' if not parties else ''}")
        return ProtocolEntry(
            code=code,
            fields=self._fields(entry, code, term_start=entry.get("date")),
            parties=tuple(self._party(code, p) for p in parties or []),
            status=ProtocolStatus.DRAFT.value,
            stamp=self._stamp(code, entry.get("date"), entry.get("date_precision")),
            evidence_reference=None,
            note=note,
        )

    def _fields(self, entry: dict[str, Any], code: str, *, scope: Any = None, term_start: Any = None,
                purchase_commitment: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "title": entry.get("title"),
            "kind": entry.get("kind") or "cooperation_protocol",
            "scope": scope,
            "term_start": None if term_start is None else _partial_date(term_start, f"{self.path}: {code}"),
            "term_end": None,
            "purchase_commitment": purchase_commitment,
        }

    def _party(self, code: str, data: Any) -> Party:
        if not isinstance(data, dict) or not data.get("partner_id") or not data.get("role"):
            raise PartnersFileError(f"{self.path}: protocol {code}: each party has a partner_id and a role")
        return Party(organisation_code=str(data["partner_id"]), role=str(data["role"]))

    def _stamp(self, code: str, when: Any, precision: Any) -> Stamp:
        """Valid from the start of the printed date, at its precision; undated entries take the report's date."""
        if when is None:
            when, precision = self.report_date, None
        if when is None:
            return Stamp(author=self.author, reason=self.reason)
        printed = _partial_date(when, f"{self.path}: {code}")
        exact = values.partial_date_precision(printed)
        if precision is not None and precision != exact:
            raise PartnersFileError(f"{self.path}: protocol {code}: date {printed} is of {exact} precision, "
                                    f"not {precision}")
        start = datetime.combine(values.partial_date_start(printed), time.min, tzinfo=UTC)
        return Stamp(author=self.author, valid_at=start, valid_precision=exact, reason=self.reason)

    def _evidence(self, entry: dict[str, Any]) -> str | None:
        quote = entry.get("source_quote")
        lines = entry.get("source_lines") or []
        if not quote:
            return None
        where = f"{self.source_file}, line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}" \
            if lines else self.source_file
        return f"“{quote}” ({where})"

    # Bringing one protocol in line with its entry.

    def _protocol(self, entry: ProtocolEntry) -> str:
        protocol_id = Protocol.create_id(entry.code)
        if not self.app.exists(protocol_id):
            self.app.draft_protocol(entry.stamp, code=entry.code, parties=_party_dicts(entry.parties),
                                    **entry.fields)
            self._advance_status(protocol_id, entry)
            return "created"
        before = self.app.get_protocol(protocol_id).version
        self._bring_in_line(protocol_id, entry)
        return _outcome(before, self.app.get_protocol(protocol_id).version)

    def _bring_in_line(self, protocol_id: UUID, entry: ProtocolEntry) -> None:
        protocol = self.app.get_protocol(protocol_id)
        if protocol.kind != entry.fields["kind"]:
            self.report.notes.append(f"protocol {entry.code} is a {protocol.kind} in Izlek, a "
                                     f"{entry.fields['kind']} in the file; the kind of a protocol does not change")
        changes = {name: entry.fields[name] for name in ("title", "scope", "term_start", "term_end",
                                                        "purchase_commitment")}
        if protocol.status == ProtocolStatus.DRAFT:
            self.app.amend_protocol(protocol_id, changes, entry.stamp)
        else:  # writes a Corrected event only where something differs
            self.app.correct_protocol(protocol_id, changes, entry.stamp)
        self._bring_parties_in_line(protocol_id, entry)
        self._advance_status(protocol_id, entry)

    def _bring_parties_in_line(self, protocol_id: UUID, entry: ProtocolEntry) -> None:
        protocol = self.app.get_protocol(protocol_id)
        if set(protocol.parties) == set(entry.parties):
            return
        if ProtocolStatus(protocol.status) not in EDITABLE_PARTIES:
            self.report.notes.append(f"protocol {entry.code} is {protocol.status}: its parties are fixed and were "
                                     "left as they are, though the file names others")
            return
        for party in protocol.parties:
            if party not in entry.parties:
                self.app.remove_protocol_party(protocol_id, party.organisation_code, entry.stamp)
        current = set(self.app.get_protocol(protocol_id).parties)
        for party in entry.parties:
            if party not in current:
                self.app.add_protocol_party(protocol_id, party.organisation_code, party.role, entry.stamp)

    def _advance_status(self, protocol_id: UUID, entry: ProtocolEntry) -> None:
        status = self.app.get_protocol(protocol_id).status
        if status == entry.status:
            return
        if status == ProtocolStatus.DRAFT and entry.status == ProtocolStatus.SIGNED:
            self.app.change_protocol_status(protocol_id, entry.status, entry.stamp,
                                            evidence_reference=entry.evidence_reference)
            return
        self.report.notes.append(f"protocol {entry.code} is {status} in Izlek, {entry.status} in the file; "
                                 "left as it is")


def _commitment_note(quote: Any, note: Any) -> str | None:
    if quote and note:
        return f"“{quote}” ({note})"
    return f"“{quote}”" if quote else (str(note) if note else None)


def _party_dicts(parties: tuple[Party, ...]) -> list[dict[str, str]]:
    return [{"organisation_code": p.organisation_code, "role": p.role} for p in parties]


def _partial_date(value: Any, where: str) -> str:
    try:
        return values.partial_date(value, "date")
    except DomainRuleViolation as exc:
        raise PartnersFileError(f"{where}: {exc}") from None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else (str(value).strip() or None)


def _outcome(before: int, after: int) -> str:
    return "unchanged" if before == after else "changed"


def _plural(kind: str, n: int) -> str:
    return kind if n == 1 else f"{kind}s"
