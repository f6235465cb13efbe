"""Dependencies of the plans routes: the application, and the shared ones of every entity API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from izlek_common.auth import PrincipalDep
from izlek_common.entity_http import IfMatchDep, TimeQuery
from izlek_plans.application import PlansApplication


async def get_application(request: Request) -> PlansApplication:
    # Asynchronous, as it never blocks: a synchronous dependency would cost a trip through the thread pool.
    return request.app.state.application


AppDep = Annotated[PlansApplication, Depends(get_application)]
Time = Annotated[TimeQuery, Depends()]

__all__ = ["AppDep", "IfMatchDep", "PrincipalDep", "Time"]
