"""The ``/graphql`` route: queries over HTTP, subscriptions over websockets (graphql-transport-ws).

A websocket is authenticated once, by its ``connection_init`` message: the bearer token in its payload
(``{"Authorization": "Bearer …"}``, since a browser cannot set headers on a websocket), or else the handshake's
``Authorization`` header. Without a valid token the socket is closed with code 4403 and a reason that says what
is wrong ("Forbidden: missing bearer token"). The socket lives no longer than its token: it is closed with 4403
"Forbidden: token expired" when the token expires. Only subscriptions run over the socket; queries go over HTTP,
where each request reads through its own connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import jwt
import structlog
from graphql import GraphQLError, GraphQLSyntaxError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocket, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from izlek_common.auth import authenticate
from izlek_common.database_outage import is_database_unavailable
from izlek_common.problems import ServiceUnavailable, Unauthenticated, database_unavailable
from izlek_gateway.graphql.subscriptions import SubscriptionContext

__all__ = ["GatewayGraphQLRouter", "authorization_in"]

logger = structlog.get_logger(__name__)

FORBIDDEN = 4403
"""graphql-transport-ws: the server refuses the connection at ``connection_init``."""
TRY_AGAIN_LATER = 1013
MAX_CLOSE_REASON_BYTES = 123


def authorization_in(connection_params: object) -> str | None:
    """The ``Authorization`` value of a ``connection_init`` payload: ``{"Authorization": "Bearer …"}`` (any
    case), or the same inside ``{"headers": {…}}`` as some clients send it."""
    if not isinstance(connection_params, Mapping):
        return None
    for key, value in connection_params.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return value
    return authorization_in(connection_params.get("headers"))


def _close_reason(text: str) -> str:
    # A close frame holds at most 123 bytes of reason.
    return text.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


class _WebSocketAdapter(ASGIWebSocketAdapter):
    """Closes once: `on_ws_connect` closes with its own reason before strawberry closes with a generic one."""

    async def close(self, code: int, reason: str) -> None:
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            await super().close(code, reason)


class _SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """Answers a query or mutation sent over the socket with an error naming the HTTP route instead."""

    async def handle(self) -> None:
        try:
            await super().handle()
        finally:
            if isinstance(self.context, SubscriptionContext):
                self.context.close()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and not _is_subscription(message):
            error = GraphQLError("only subscriptions go over the websocket; send queries to POST /graphql")
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        await super().handle_subscribe(message)


def _is_subscription(message: SubscribeMessage) -> bool:
    try:
        payload = message["payload"]
        operation = get_operation_ast(parse(payload["query"]), payload.get("operationName"))
    except (GraphQLSyntaxError, KeyError, TypeError):
        return True  # not ours to judge: strawberry answers malformed messages and documents itself
    return operation is None or operation.operation == OperationType.SUBSCRIPTION


class GatewayGraphQLRouter(GraphQLRouter[Any, None]):
    """strawberry's router, authenticating each websocket at ``connection_init``, and answering a query that met
    the read models unreachable with 503 like any other request (rather than 200 with the error in ``errors``)."""

    websocket_adapter_class = _WebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = _SubscriptionsOnlyHandler

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        if any(error.original_error is not None and is_database_unavailable(error.original_error)
               for error in result.errors or ()):
            raise database_unavailable()
        return await super().process_result(request, result)

    async def on_ws_connect(self, context: Any) -> UnsetType | dict[str, object] | None:
        if not isinstance(context, SubscriptionContext):
            return UNSET
        websocket = context.request
        assert isinstance(websocket, WebSocket)
        header = authorization_in(context.connection_params) or websocket.headers.get("Authorization")
        try:
            context.principal = await authenticate(websocket, header)
        except Unauthenticated as exc:
            await _close(websocket, FORBIDDEN, _close_reason(f"Forbidden: {exc.detail}"))
            raise ConnectionRejectionError({"detail": exc.detail}) from exc
        except ServiceUnavailable as exc:
            await _close(websocket, TRY_AGAIN_LATER, _close_reason(f"Try again later: {exc.detail}"))
            raise ConnectionRejectionError({"detail": exc.detail}) from exc
        if (expires_at := _expiry(header)) is not None:
            # The socket lives no longer than its token: the client reconnects with a fresh one and its cursor.
            context.end_at(expires_at, partial(_close, websocket, FORBIDDEN, "Forbidden: token expired"))
        logger.info("subscriptions.connected", expires_at=expires_at and expires_at.isoformat())
        return UNSET


def _expiry(header: str | None) -> datetime | None:
    # Read after `authenticate` verified the token, so its claims are trusted.
    token = (header or "").strip().partition(" ")[2].strip()
    try:
        expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return datetime.fromtimestamp(expires, UTC) if isinstance(expires, int | float) else None


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError):  # the client left meanwhile
            await websocket.close(code=code, reason=reason)
