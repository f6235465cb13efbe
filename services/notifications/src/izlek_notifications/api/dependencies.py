"""Dependencies of the notifications routes: the application, the deliveries, and the shared ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from izlek_common.auth import PrincipalDep
from izlek_common.entity_http import IfMatchDep
from izlek_notifications.application import NotificationsApplication
from izlek_notifications.delivery.store import DeliveryStore


def get_application(request: Request) -> NotificationsApplication:
    return request.app.state.application


def get_deliveries(request: Request) -> DeliveryStore:
    return request.app.state.deliveries


AppDep = Annotated[NotificationsApplication, Depends(get_application)]
DeliveriesDep = Annotated[DeliveryStore, Depends(get_deliveries)]

__all__ = ["AppDep", "DeliveriesDep", "IfMatchDep", "PrincipalDep"]
