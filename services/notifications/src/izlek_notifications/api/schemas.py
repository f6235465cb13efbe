"""Request bodies of the notifications API. Unknown fields are refused, so a typo never goes unnoticed."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from izlek_common.request_bodies import Body, Stamped

Language = Literal["tr", "en"]


class WebhookChannel(Body):
    type: Literal["webhook"]
    url: str = Field(min_length=1, max_length=2000, description="https:// (or http://) URL of a public host; "
                     "it receives signed POSTs of CloudEvents (see docs/notifications.md).")


class EmailChannel(Body):
    type: Literal["email"]
    address: str = Field(min_length=3, max_length=254)


Channel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="type")]


class FilterBody(Body):
    event_types: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50,
        description="Event types (izlek.partners.protocol.status_changed.v1) or patterns in which * stands for one "
        "or more parts (izlek.partners.protocol.*); empty: every type.")
    plan_id: UUID | None = Field(None, description="Only events of this plan (its commitments, criteria, ...).")
    organisation_code: str | None = Field(None, min_length=1, max_length=200,
                                          description="Only events involving this organisation.")
    protocol_id: UUID | None = Field(None, description="Only events about this protocol (and its purchases).")


class SubscriptionCreate(Stamped):
    channel: Channel
    filter: FilterBody = Field(default_factory=FilterBody)
    language: Language = "tr"


class SubscriptionChange(Stamped):
    channel: Channel | None = None
    filter: FilterBody | None = None
    language: Language | None = None


class Envelope(Stamped):
    """Only the envelope: a reason, the version read."""
