import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from izlek_common.cloudevents import (
    CloudEvent,
    IntegrationEvent,
    UnknownContract,
    all_contracts,
    contract_for,
    message_id,
    register_contract,
)

ISTANBUL = timezone(timedelta(hours=3))
CE_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]{1,20}$")


def an_event(**overrides) -> CloudEvent:
    attributes = {
        "id": message_id("partners", 42),
        "source": "/izlek/partners",
        "type": "izlek.partners.protocol.status_changed.v1",
        "subject": "protocol-7",
        "time": datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        "data": {"organisation": "Çiğli Belediyesi", "status": "signed", "note": None},
        "notificationid": 42,
        "aggregateversion": 3,
        "actor": "ayse",
        "actorrole": "liaison",
        "actororg": "org-cigli-belediyesi",
        "validtime": datetime(2019, 5, 14, tzinfo=ISTANBUL),
        "correlationid": "req-4711",
        "reason": "Belediye meclisi kararı ile imzalandı",
        "kind": "correction",
    }
    return CloudEvent(**{**attributes, **overrides})


def test_a_cloud_event_round_trips_through_json_bytes_with_turkish_text_intact() -> None:
    event = an_event()

    raw = event.to_json_bytes()

    assert "Çiğli Belediyesi".encode() in raw
    assert "Belediye meclisi kararı".encode() in raw
    assert CloudEvent.from_json_bytes(raw) == event


def test_json_bytes_are_compact_structured_mode_json() -> None:
    raw = an_event().to_json_bytes()
    document = json.loads(raw)

    assert raw == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert document["specversion"] == "1.0"
    assert document["datacontenttype"] == "application/json"
    assert document["time"] == "2024-03-01T09:30:00Z"
    assert document["validtime"] == "2019-05-14T00:00:00+03:00"
    assert document["data"]["note"] is None


def test_absent_optional_attributes_are_left_out_and_read_back_as_none() -> None:
    event = an_event(subject=None, actororg=None, correlationid=None, reason=None)

    raw = event.to_json_bytes()

    assert {"subject", "actororg", "correlationid", "reason", "dataschema"}.isdisjoint(json.loads(raw))
    assert CloudEvent.from_json_bytes(raw) == event


def test_nats_headers_carry_the_message_id_correlation_id_and_routing_hints() -> None:
    headers = an_event().nats_headers()

    assert headers["Nats-Msg-Id"] == "partners:42"
    assert headers["Izlek-Correlation-Id"] == "req-4711"
    assert headers["Ce-Type"] == "izlek.partners.protocol.status_changed.v1"
    assert headers["Ce-Subject"] == "protocol-7"
    assert headers["Izlek-Notification-Id"] == "42"
    assert headers["Content-Type"] == "application/cloudevents+json"


def test_nats_headers_leave_out_an_absent_correlation_id() -> None:
    assert "Izlek-Correlation-Id" not in an_event(correlationid=None).nats_headers()


def test_attribute_names_are_valid_per_the_cloudevents_spec() -> None:
    names = set(CloudEvent.model_fields)

    assert all(CE_ATTRIBUTE_NAME.fullmatch(name) for name in names), names
    assert set(json.loads(an_event().to_json_bytes())) <= names


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError):
        an_event(time=datetime(2024, 3, 1, 9, 30))


def test_an_event_defaults_to_a_real_world_change() -> None:
    event = an_event()
    document = json.loads(event.to_json_bytes())
    del document["kind"]

    assert CloudEvent.model_validate(document).kind == "change"


def test_unknown_attributes_from_newer_producers_are_ignored() -> None:
    document = json.loads(an_event().to_json_bytes())
    document["traceparent"] = "00-abc-def-01"

    assert CloudEvent.from_json_bytes(json.dumps(document)) == an_event()


def test_an_event_is_immutable() -> None:
    with pytest.raises(ValidationError):
        an_event().aggregateversion = 4


@register_contract
class PurchaseRecordedV1(IntegrationEvent):
    """Test contract: a municipality recorded a purchase from a cooperative."""

    event_type = "izlek.testing.purchase.recorded.v1"
    version = 1

    purchase_id: str
    amount_try: str
    purchased_on: date


def test_a_registered_contract_is_found_by_its_event_type() -> None:
    assert contract_for("izlek.testing.purchase.recorded.v1") is PurchaseRecordedV1
    assert all_contracts()["izlek.testing.purchase.recorded.v1"] is PurchaseRecordedV1


def test_a_contract_round_trips_as_cloud_event_data() -> None:
    payload = PurchaseRecordedV1(purchase_id="pr-1", amount_try="1156.50", purchased_on=date(2021, 6, 1))
    event = an_event(type=PurchaseRecordedV1.event_type, data=payload.model_dump(mode="json"))

    received = CloudEvent.from_json_bytes(event.to_json_bytes())

    assert contract_for(received.type).model_validate(received.data) == payload


def test_a_contract_refuses_unknown_fields_and_changes() -> None:
    with pytest.raises(ValidationError):
        PurchaseRecordedV1(purchase_id="pr-1", amount_try="1", purchased_on=date(2021, 6, 1), extra="x")
    payload = PurchaseRecordedV1(purchase_id="pr-1", amount_try="1", purchased_on=date(2021, 6, 1))
    with pytest.raises(ValidationError):
        payload.purchase_id = "pr-2"


def test_an_unknown_event_type_has_no_contract() -> None:
    with pytest.raises(UnknownContract, match=re.escape("izlek.testing.nothing.happened.v1")):
        contract_for("izlek.testing.nothing.happened.v1")


def test_two_contracts_may_not_claim_the_same_event_type() -> None:
    with pytest.raises(ValueError, match="already the contract"):

        @register_contract
        class AnotherPurchaseRecordedV1(IntegrationEvent):
            event_type = "izlek.testing.purchase.recorded.v1"
            version = 1


def test_an_event_type_must_follow_the_naming_scheme() -> None:
    with pytest.raises(ValueError, match=re.escape("izlek.<service>.<aggregate>.<event>.v<N>")):

        @register_contract
        class Badly(IntegrationEvent):
            event_type = "PurchaseRecorded"
            version = 1


def test_the_version_must_match_the_event_type_suffix() -> None:
    with pytest.raises(ValueError, match=r"must be the number after '\.v'"):

        @register_contract
        class Mismatched(IntegrationEvent):
            event_type = "izlek.testing.purchase.cancelled.v2"
            version = 1
