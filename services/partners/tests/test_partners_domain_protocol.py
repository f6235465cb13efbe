"""Protocols in memory: the lifecycle table (every allowed move, every forbidden pair), reasons, parties,
revisions and numbered amendments, documents and corrections."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

import pytest

from izlek_common.domain.base import is_correction
from izlek_common.domain.stamp import Author, Stamp
from izlek_partners.domain.errors import InvalidValue, ProtocolTransitionNotAllowed, ReasonRequired
from izlek_partners.domain.protocol import REASON_REQUIRED, TRANSITIONS, Protocol, ProtocolStatus

# The lifecycle as docs/partners.md prints it; the domain must say the same.
LIFECYCLE: dict[str, set[str]] = {
    "draft": {"proposed", "signed"},
    "proposed": {"council_approved", "council_rejected", "draft"},
    "council_approved": {"signed"},
    "council_rejected": {"draft", "proposed"},
    "signed": {"in_force", "terminated"},
    "in_force": {"suspended", "terminated", "expired", "renewed"},
    "suspended": {"in_force", "terminated", "expired"},
    "expired": {"renewed"},
    "renewed": {"suspended", "terminated", "expired", "renewed"},
    "terminated": set(),
}
NEEDS_REASON = {"council_rejected", "suspended", "terminated"}
STATUSES = [s.value for s in ProtocolStatus]
ALLOWED_MOVES = [(start, to) for start in STATUSES for to in sorted(LIFECYCLE[start])]
FORBIDDEN_MOVES = [(start, to) for start in STATUSES for to in STATUSES if to != start and to not in LIFECYCLE[start]]
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
PARTIES = [{"organisation_code": "kedv", "role": "implementing_organisation"},
           {"organisation_code": "cigli-belediyesi", "role": "municipality"}]


def stamp(reason: str | None = None, **fields: object) -> Stamp:
    return Stamp(Author("ayse@kedv.org.tr", "coordinator", "kedv"), reason=reason, **fields)  # type: ignore[arg-type]


def path_to(status: str) -> list[str]:
    """The shortest walk from draft to ``status`` through the lifecycle."""
    queue: deque[list[str]] = deque([["draft"]])
    while queue:
        walk = queue.popleft()
        if walk[-1] == status:
            return walk[1:]
        queue.extend([*walk, nxt] for nxt in sorted(LIFECYCLE[walk[-1]]) if nxt not in walk)
    raise AssertionError(f"{status} cannot be reached")


def a_protocol(status: str = "draft", parties: list[dict[str, str]] | None = None) -> Protocol:
    protocol = Protocol.draft(code="prot-2019-kedv-cigli-belediyesi", title="İş birliği protokolü – Çiğli Belediyesi",
                              stamp=stamp(), parties=PARTIES if parties is None else parties, term_start="2019")
    for step in path_to(status):
        protocol.change_status(step, stamp(reason="set up"))
    protocol.collect_events()
    assert protocol.status == status
    return protocol


def event_names(protocol: Protocol) -> list[str]:
    return [type(e).__name__ for e in protocol.collect_events()]


def test_the_lifecycle_table_is_the_documented_one() -> None:
    assert {s.value: {t.value for t in targets} for s, targets in TRANSITIONS.items()} == LIFECYCLE
    assert {s.value for s in REASON_REQUIRED} == NEEDS_REASON
    assert len(ALLOWED_MOVES) == 22 and len(FORBIDDEN_MOVES) == 69


def test_a_new_protocol_is_a_draft_at_amendment_zero() -> None:
    protocol = a_protocol()
    assert (protocol.status, protocol.amendment, protocol.term_start) == ("draft", 0, "2019")


@pytest.mark.parametrize(("start", "to"), ALLOWED_MOVES)
def test_every_allowed_move_is_a_status_changed_event(start: str, to: str) -> None:
    protocol = a_protocol(start)

    changed = protocol.change_status(to, stamp(reason="decided", valid_at=datetime(2021, 6, 10, tzinfo=UTC)),
                                     evidence_reference="Meclis kararı 2021/45")

    assert changed is True and protocol.status == to
    events = protocol.collect_events()
    assert [type(e).__name__ for e in events] == ["StatusChanged"]
    assert events[0].evidence_reference == "Meclis kararı 2021/45"
    assert events[0].stamp.reason == "decided"


@pytest.mark.parametrize(("start", "to"), FORBIDDEN_MOVES)
def test_every_forbidden_move_is_refused_with_the_allowed_ones_and_records_nothing(start: str, to: str) -> None:
    protocol = a_protocol(start)

    with pytest.raises(ProtocolTransitionNotAllowed) as refused:
        protocol.change_status(to, stamp(reason="try anyway"))

    assert (refused.value.current, refused.value.requested) == (start, to)
    assert set(refused.value.allowed) == LIFECYCLE[start]
    assert f"cannot go from '{start}' to '{to}'" in str(refused.value)
    assert protocol.status == start and event_names(protocol) == []


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "renewed"])
def test_asking_for_the_status_it_already_has_records_nothing(status: str) -> None:
    protocol = a_protocol(status)
    assert protocol.change_status(status, stamp(reason="again")) is False
    assert event_names(protocol) == []


def test_a_renewed_protocol_can_be_renewed_again() -> None:
    protocol = a_protocol("renewed")
    assert protocol.change_status("renewed", stamp()) is True
    assert event_names(protocol) == ["StatusChanged"]


@pytest.mark.parametrize(("start", "to"), [(s, t) for s, t in ALLOWED_MOVES if t in NEEDS_REASON])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_rejection_suspension_and_termination_need_a_reason(start: str, to: str, reason: str | None) -> None:
    protocol = a_protocol(start)

    with pytest.raises(ReasonRequired):
        protocol.change_status(to, stamp(reason=reason))

    assert protocol.status == start and event_names(protocol) == []


@pytest.mark.parametrize(("start", "to"), [(s, t) for s, t in ALLOWED_MOVES if t not in NEEDS_REASON])
def test_other_moves_need_no_reason(start: str, to: str) -> None:
    protocol = a_protocol(start)
    assert protocol.change_status(to, stamp()) is True


def test_an_unknown_status_is_invalid_and_names_the_statuses() -> None:
    with pytest.raises(InvalidValue, match="council_approved"):
        a_protocol().change_status("approved", stamp())


@pytest.mark.parametrize("parties", [[], PARTIES[:1]])
@pytest.mark.parametrize("to", ["proposed", "signed"])
def test_a_protocol_leaves_the_draft_only_with_two_parties(parties: list[dict[str, str]], to: str) -> None:
    protocol = a_protocol(parties=parties)

    with pytest.raises(InvalidValue, match="at least two parties"):
        protocol.change_status(to, stamp())

    assert protocol.status == "draft" and event_names(protocol) == []
    protocol.add_party(PARTIES[1]["organisation_code"] if parties else "kedv", "party", stamp())
    if not parties:
        protocol.add_party("cigli-belediyesi", "municipality", stamp())
    protocol.collect_events()
    assert protocol.change_status(to, stamp()) is True


def test_parties_change_while_the_protocol_is_prepared_and_are_fixed_once_signed() -> None:
    protocol = a_protocol()
    protocol.add_party("konak-belediyesi", "municipality", stamp())
    protocol.remove_party("cigli-belediyesi", stamp())
    assert event_names(protocol) == ["PartyAdded", "PartyRemoved"]
    assert [p.organisation_code for p in protocol.parties] == ["kedv", "konak-belediyesi"]

    with pytest.raises(InvalidValue, match="twice"):
        protocol.add_party("kedv", "implementing_organisation", stamp())
    with pytest.raises(InvalidValue, match="not a party"):
        protocol.remove_party("cigli-belediyesi", stamp())

    for status in ("proposed", "council_rejected"):
        editable = a_protocol(status)
        editable.add_party("konak-belediyesi", "municipality", stamp())
    for status in ("council_approved", "signed", "in_force", "suspended", "terminated", "expired", "renewed"):
        fixed = a_protocol(status)
        with pytest.raises(InvalidValue, match="fixed"):
            fixed.add_party("konak-belediyesi", "municipality", stamp())
        with pytest.raises(InvalidValue, match="fixed"):
            fixed.remove_party("kedv", stamp())
        assert event_names(fixed) == []


def test_a_draft_is_revised_without_a_number_and_a_proposed_protocol_amended_with_numbers() -> None:
    protocol = a_protocol()
    assert protocol.amend({"title": "Standart protokol", "term_end": "2024"}, stamp()) is True
    assert protocol.amend({"title": "Standart protokol"}, stamp()) is False, "no change, no event"
    assert event_names(protocol) == ["Revised"] and protocol.amendment == 0

    protocol.change_status("proposed", stamp())
    protocol.collect_events()
    with pytest.raises(ReasonRequired):
        protocol.amend({"scope": "Kooperatif ürünleri"}, stamp())
    assert event_names(protocol) == []

    protocol.amend({"scope": "Kooperatif ürünleri"}, stamp(reason="meclis önerisi"))
    protocol.amend({"purchase_commitment": {"quota_percent": "5", "categories": ["catering"]}},
                   stamp(reason="kota eklendi"))
    events = protocol.collect_events()
    assert [(type(e).__name__, e.amendment) for e in events] == [("Amended", 1), ("Amended", 2)]
    assert protocol.amendment == 2 and protocol.scope == "Kooperatif ürünleri"
    assert str(protocol.purchase_commitment.quota_percent) == "5"

    signed = a_protocol("in_force")
    signed.amend({"term_end": "2025-12"}, stamp(reason="uzatma"))
    assert [e.amendment for e in signed.collect_events()] == [1]


@pytest.mark.parametrize("changes", [
    {"status": "signed"},  # not an amendment: the lifecycle moves it
    {"parties": []},
    {"term_start": "2019-13"},
    {"term_start": "2020", "term_end": "2019"},
    {"purchase_commitment": {"quota_percent": 0}},
    {"purchase_commitment": {"quota_percent": "100.5"}},
    {"purchase_commitment": {"categories": ["catering", "catering"]}},
    {"purchase_commitment": {"share": 5}},
    {"title": "  "},
])
def test_bad_amendments_are_refused_and_record_nothing(changes: dict[str, object]) -> None:
    protocol = a_protocol()
    with pytest.raises(InvalidValue):
        protocol.amend(changes, stamp(reason="x"))
    assert event_names(protocol) == []


@pytest.mark.parametrize("term", ["2019", "2019-09", "2019-09-04"])
def test_term_dates_keep_the_precision_they_were_given(term: str) -> None:
    protocol = Protocol.draft(code="p", title="t", stamp=stamp(), term_start=term)
    assert protocol.term_start == term


def test_documents_need_a_sha256_of_64_hexadecimal_characters() -> None:
    protocol = a_protocol("signed")
    protocol.attach_document(reference="imzali/cigli-2019.pdf", sha256=SHA.upper(), stamp=stamp(), title="İmzalı")
    assert protocol.documents[0].sha256 == SHA, "kept in lower case"
    assert event_names(protocol) == ["DocumentAttached"]

    for bad in (SHA[:-1], SHA + "0", "g" * 64, "", "sha256:" + SHA[7:]):
        with pytest.raises(InvalidValue):
            protocol.attach_document(reference="x.pdf", sha256=bad, stamp=stamp())
    with pytest.raises(InvalidValue, match="attached already"):
        protocol.attach_document(reference="again.pdf", sha256=SHA, stamp=stamp())
    assert event_names(protocol) == []


def test_a_correction_is_a_corrected_event_with_a_reason_outside_the_lifecycle() -> None:
    protocol = a_protocol("terminated")

    with pytest.raises(ReasonRequired):
        protocol.correct({"status": "in_force"}, stamp())
    assert event_names(protocol) == []

    assert protocol.correct({"status": "in_force", "term_start": "2019-03"},
                            stamp(reason="fesih yanlış protokole girildi")) is True
    events = protocol.collect_events()
    assert [type(e).__name__ for e in events] == ["Corrected"]
    assert is_correction("Corrected") and not is_correction("StatusChanged")
    assert events[0].changes == {"status": "in_force", "term_start": "2019-03"}
    assert events[0].stamp.reason == "fesih yanlış protokole girildi"
    assert (protocol.status, protocol.term_start, protocol.amendment) == ("in_force", "2019-03", 0)
    assert protocol.correct({"status": "in_force"}, stamp(reason="again")) is False
    with pytest.raises(InvalidValue):
        protocol.correct({"status": "approved"}, stamp(reason="x"))


def test_a_year_precision_stamp_is_accepted_and_other_precisions_refused() -> None:
    start = datetime(2019, 1, 1, tzinfo=UTC)
    protocol = Protocol.draft(code="p", title="t", stamp=stamp(valid_at=start, valid_precision="year"),
                              parties=PARTIES, term_start="2019")
    protocol.change_status("signed", Stamp(Author("a", "coordinator"), valid_at=start, valid_precision="year"))
    assert [e.stamp.valid_precision for e in protocol.collect_events()] == ["year", "year"]
    with pytest.raises(InvalidValue, match="precision"):
        Stamp(Author("a", "coordinator"), valid_at=start, valid_precision="week")


def test_a_protocol_id_follows_from_its_code() -> None:
    assert a_protocol().id == Protocol.create_id("prot-2019-kedv-cigli-belediyesi")


def test_codes_as_long_as_the_izmir_cooperatives_slugs_are_accepted() -> None:
    cooperative = "ss-gumuldur-gumoz-mandarin-kadin-girisimci-uretim-ve-isletme-kooperatifi"
    protocol = Protocol.draft(code=f"prot-2021-kedv-{cooperative}", title="t", stamp=stamp(),
                              parties=[{"organisation_code": cooperative, "role": "cooperative"}])
    assert protocol.parties[0].organisation_code == cooperative
