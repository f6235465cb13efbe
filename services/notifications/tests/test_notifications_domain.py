"""The subscription and its filter's event-type patterns, in memory."""

from __future__ import annotations

from uuid import uuid4

import pytest

from izlek_common.domain.stamp import Author, Stamp
from izlek_notifications.application import subscribable_event_types
from izlek_notifications.domain.errors import (
    InvalidValue,
    SubscriptionDeleted,
    SubscriptionTransitionNotAllowed,
)
from izlek_notifications.domain.event_types import checked_event_types, matches, matches_any
from izlek_notifications.domain.subscription import Channel, Subscription, SubscriptionFilter

AYSE = Author("ayse@kedv.org.tr", "coordinator", "kedv")


def stamp() -> Stamp:
    return Stamp(AYSE)


def subscription() -> Subscription:
    return Subscription.subscribe(subscription_id=uuid4(), owner=AYSE, scopes=(),
                                  channel=Channel.email("ayse@example.org"), filter=SubscriptionFilter(),
                                  language="tr", stamp=stamp())


@pytest.mark.parametrize(("pattern", "event_type", "expected"), [
    ("izlek.partners.protocol.*", "izlek.partners.protocol.status_changed.v1", True),
    ("izlek.partners.protocol.*", "izlek.partners.purchase.recorded.v1", False),
    ("izlek.*", "izlek.plans.commitment.status_changed.v1", True),
    ("izlek.*.status_changed.v1", "izlek.plans.commitment.status_changed.v1", True),
    ("izlek.*.status_changed.v1", "izlek.partners.protocol.status_changed.v1", True),
    ("izlek.*.status_changed.v1", "izlek.partners.protocol.status_changed.v2", False),
    ("izlek.plans.*.v1", "izlek.plans.plan.started.v1", True),
    ("izlek.plans.commitment.status_changed.v1", "izlek.plans.commitment.status_changed.v1", True),
    ("izlek.plans.commitment", "izlek.plans.commitment.status_changed.v1", False),
    ("izlek.partners.protocol.*", "izlek.partners.protocolx.drafted.v1", False),
])
def test_a_star_stands_for_one_or_more_whole_parts_of_an_event_type(pattern: str, event_type: str,
                                                                     expected: bool) -> None:
    assert matches(pattern, event_type) is expected


def test_no_patterns_ask_for_every_event() -> None:
    assert matches_any((), "izlek.partners.purchase.voided.v1")


def test_event_types_must_be_published_ones_or_patterns_that_stand_for_some() -> None:
    known = subscribable_event_types()
    assert "izlek.notifications.reminder.commitment_overdue.v1" in known
    assert not any(t.startswith("izlek.notifications.subscription.") for t in known)
    assert checked_event_types(["izlek.plans.*", " izlek.plans.* ", "izlek.partners.protocol.drafted.v1"],
                               known) == ("izlek.plans.*", "izlek.partners.protocol.drafted.v1")
    for bad in ("izlek.plans.commitment.finished.v1", "izlek.budget.*", "IZLEK.*", "izlek..x", "*", "izlek.pl*ns"):
        with pytest.raises(InvalidValue):
            checked_event_types([bad], known)


def test_a_subscription_pauses_resumes_and_is_deleted_once() -> None:
    s = subscription()
    assert s.pause(stamp()) and not s.pause(stamp()), "pausing a paused one records nothing"
    assert s.resume(stamp()) and s.state == "active"
    s.delete(stamp())
    with pytest.raises(SubscriptionDeleted):
        s.pause(stamp())
    with pytest.raises(SubscriptionDeleted):
        s.change({"language": "en"}, stamp())
    assert [type(e).__name__ for e in s.collect_events()] == ["Subscribed", "Paused", "Resumed", "Deleted"]


def test_a_subscription_keeps_its_channel_type_and_its_language_is_turkish_or_english() -> None:
    s = subscription()
    with pytest.raises(InvalidValue, match="stays one"):
        s.change({"channel": Channel.webhook("https://example.org/hook")}, stamp())
    with pytest.raises(InvalidValue, match=r"tr .* or en"):
        s.change({"language": "de"}, stamp())
    with pytest.raises(InvalidValue, match="only webhook"):
        s.rotate_secret(stamp())
    assert s.change({"language": "en"}, stamp()) and not s.change({"language": "en"}, stamp())


def test_channels_check_their_address() -> None:
    assert Channel.email(" ayse@kedv.org.tr ").address == "ayse@kedv.org.tr"
    for bad in ("ayse", "ayse@", "@kedv.org.tr", "a b@kedv.org.tr", "ayse@kedv"):
        with pytest.raises(InvalidValue):
            Channel.email(bad)
    with pytest.raises(InvalidValue):
        Channel.webhook("mailto:x@y.org")


def test_transitions_refused_name_the_allowed_ones() -> None:
    s = subscription()
    s.delete(stamp())
    error = SubscriptionTransitionNotAllowed("deleted", "active", [])
    assert str(error) == "a subscription cannot go from 'deleted' to 'active'; allowed: none"
