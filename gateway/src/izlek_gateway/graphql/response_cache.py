"""Answers to GraphQL queries kept until the read models change.

A query's answer depends only on the read models, on what the caller may see (`PlanScope`) and on the time (the
day in Turkey for what is overdue, the minute for changes scheduled to take effect): so the answer to a POST
``/graphql`` query is kept under its document, variables and operation name, the caller's scope, the current
minute and the read models' version (`ReadModelVersion`), and served again as the same bytes, without a
database connection or strawberry's execution, until the projector commits; the same question asked while its
answer is being computed waits for that answer. The caller is still authenticated
on every request. Only answers without errors to queries are kept; anything else (GET, mutations,
subscriptions, malformed requests, refused tokens) goes to GraphQL as if there were no cache.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from izlek_common.auth import authenticate
from izlek_common.problems import ServiceUnavailable, Unauthenticated
from izlek_gateway.graphql.scope import PlanScope
from izlek_gateway.read_models.version import ReadModelVersion

JSON_CONTENT_TYPE = b"application/json"


class ResponseCache:
    """Answers of one read-model version, at most `max_bytes` of them, least recently used first out. A new
    version empties it: nothing of an older one can be asked for again."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._version: Hashable = None
        self._answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0

    def get(self, version: Hashable, key: Hashable) -> bytes | None:
        if version != self._version:
            return None
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, version: Hashable, key: Hashable, answer: bytes) -> None:
        if len(answer) > self.max_bytes // 4:
            return
        if version != self._version:
            self._version = version
            self._answers.clear()
            self._size = 0
        previous = self._answers.pop(key, None)
        self._size += len(answer) - (len(previous) if previous is not None else 0)
        self._answers[key] = answer
        while self._size > self.max_bytes:
            _, dropped = self._answers.popitem(last=False)
            self._size -= len(dropped)


class _Queries:
    """Which documents are queries (parsed once each)."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._known: OrderedDict[tuple[str, str | None], bool] = OrderedDict()

    def is_query(self, document: str, operation_name: str | None) -> bool:
        key = (document, operation_name)
        known = self._known.get(key)
        if known is None:
            try:
                operation = get_operation_ast(parse(document), operation_name)
            except GraphQLError:
                operation = None
            known = operation is not None and operation.operation == OperationType.QUERY
            self._known[key] = known
            if len(self._known) > self.capacity:
                self._known.popitem(last=False)
        return known


class CachedQueryResponses:
    """ASGI middleware in front of the GraphQL route at `path` (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, path: str, cache: ResponseCache, version: ReadModelVersion) -> None:
        self.app = app
        self.path = path
        self.cache = cache
        self.version = version
        self._queries = _Queries()
        self._computing: dict[Hashable, asyncio.Future[bytes | None]] = {}
        """The answers being computed now: a miss asked again meanwhile waits for it instead of computing it too
        (after the projector commits, every client asks again at once)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        replay = _replaying(messages, receive)
        request = self._cacheable_request(body)
        if request is None:
            await self.app(scope, replay, send)
            return
        try:
            principal = await authenticate(HTTPConnection(scope), Headers(scope=scope).get("authorization"))
        except (Unauthenticated, ServiceUnavailable):
            await self.app(scope, replay, send)  # GraphQL answers the refusal, as without a cache
            return
        try:
            version = await self.version.current()
        except SQLAlchemyError:
            await self.app(scope, replay, send)  # the read models are unreachable: GraphQL says so
            return
        key = (*request, PlanScope.of(principal), int(time.time() // 60))
        answer = self.cache.get(version, key)
        if answer is None and (computing := self._computing.get((version, key))) is not None:
            answer = await asyncio.shield(computing)  # the same question, asked meanwhile: one answer for all
        if answer is not None:
            await _send_json(send, answer)
            return
        computing = self._computing[(version, key)] = asyncio.get_running_loop().create_future()
        try:
            recorder = _ResponseRecorder(send)
            await self.app(scope, replay, recorder)
            if (answer := recorder.answer_without_errors()) is not None:
                self.cache.put(version, key, answer)
        finally:
            if self._computing.get((version, key)) is computing:
                del self._computing[(version, key)]
            computing.set_result(answer)

    def _cacheable_request(self, body: bytes) -> tuple[str, str, str | None] | None:
        """(document, variables as canonical JSON, operation name) of a single query; None for anything else."""
        try:
            request = json.loads(body)
        except ValueError:
            return None
        if not isinstance(request, dict):
            return None
        document = request.get("query")
        variables = request.get("variables") or {}
        operation_name = request.get("operationName")
        if not isinstance(document, str) or not isinstance(variables, dict) or request.get("extensions") \
                or not (operation_name is None or isinstance(operation_name, str)):
            return None
        if not self._queries.is_query(document, operation_name):
            return None
        return document, json.dumps(variables, sort_keys=True, separators=(",", ":")), operation_name


async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
    messages: list[Message] = []
    body = bytearray()
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return messages, bytes(body)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _send_json(send: Send, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", JSON_CONTENT_TYPE), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _ResponseRecorder:
    """Passes a response on while keeping a copy of it."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 0
        self.content_type = b""
        self.chunks: list[bytes] = []
        self.complete = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.content_type = dict(message.get("headers", [])).get(b"content-type", b"")
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        await self.send(message)

    def answer_without_errors(self) -> bytes | None:
        if self.status != 200 or not self.complete or not self.content_type.startswith(JSON_CONTENT_TYPE):
            return None
        body = b"".join(self.chunks)
        try:
            answer: Any = json.loads(body)
        except ValueError:
            return None
        if not isinstance(answer, dict) or answer.get("errors") or answer.get("data") is None:
            return None
        return body
