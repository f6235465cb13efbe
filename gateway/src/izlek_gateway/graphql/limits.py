"""Limits on what one GraphQL request may ask, for every caller: the size of the request, the length of the query,
its tokens, its depth and its aliases.

Each limit refuses the request before any resolver runs. The HTTP status is strawberry's: a query over a limit
answers 200 with ``data: null`` and one error whose message names the limit and the allowed value, and whose
``extensions.code`` says which limit it was (``QUERY_TOO_LONG``, ``TOO_MANY_TOKENS``, ``QUERY_TOO_DEEP``,
``TOO_MANY_ALIASES``). A request body over its limit never reaches GraphQL: it answers 413 with problem+json.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from graphql import FragmentDefinitionNode, FragmentSpreadNode, ValidationContext, ValidationRule
from graphql.language import visit
from graphql.language.visitor import Visitor
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension

from izlek_common.problems import PROBLEM_BASE, problem_response
from izlek_gateway.settings import GatewaySettings

QUERY_TOO_LONG = "QUERY_TOO_LONG"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"


def query_limit_extensions(settings: GatewaySettings) -> list[Callable[[], SchemaExtension]]:
    """The strawberry extensions that enforce the query limits of `settings`, for ``build_schema``.

    Factories rather than instances, so that every request gets extensions of its own (strawberry keeps the
    request's execution context on the extension).
    """
    length = settings.gateway_max_query_length
    tokens = settings.gateway_max_query_tokens
    depth = settings.gateway_max_query_depth
    aliases = settings.gateway_max_query_aliases
    return [
        partial(MaxQueryLength, max_length=length),
        partial(MaxTokensLimiter, max_token_count=tokens),
        partial(_DepthLimiter, max_depth=depth),
        partial(MaxAliasesLimiter, max_alias_count=aliases),
        partial(LimitErrorCodes, codes=[
            (re.compile(rf"^Syntax Error: Source contains more than {length} code points\b"), QUERY_TOO_LONG, length),
            (re.compile(rf"^Syntax Error: Document contains more than {tokens} tokens\b"), TOO_MANY_TOKENS, tokens),
            (re.compile(rf"exceeds maximum operation depth of {depth}$"), QUERY_TOO_DEEP, depth),
            (re.compile(rf"^\d+ aliases found\. Allowed: {aliases}$"), TOO_MANY_ALIASES, aliases),
        ]),
    ]


class MaxQueryLength(SchemaExtension):
    """Refuse a query longer than `max_length` characters before it is read token by token (graphql-core's
    ``max_source_length``): one long string or comment costs as much to read as many tokens."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_source_length"] = self.max_length  # type: ignore[typeddict-unknown-key]
        yield


class _DepthLimiter(QueryDepthLimiter):
    """strawberry's depth limit, left to graphql-core's own rule for a query that spreads a fragment it does not
    define: the depth rule would fail on it with a bare ``KeyError`` and hide the clear "Unknown fragment"."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(max_depth=max_depth)
        self.validation_rules = [_when_every_fragment_is_defined(rule) for rule in self.validation_rules]


def _when_every_fragment_is_defined(rule: type[ValidationRule]) -> type[ValidationRule]:
    class WhenEveryFragmentIsDefined(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            if _spreads_only_defined_fragments(context):
                rule(context)  # strawberry's validators report their errors while they are built

    return WhenEveryFragmentIsDefined


def _spreads_only_defined_fragments(context: ValidationContext) -> bool:
    document = context.document
    defined = {d.name.value for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    spread: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
            spread.add(node.name.value)

    visit(document, Spreads())
    return spread <= defined


class LimitErrorCodes(SchemaExtension):
    """Give each error of a query limit an ``extensions.code`` (and the allowed value as ``limit``), so that
    clients can tell a query over a limit from any other invalid query."""

    def __init__(self, codes: list[tuple[re.Pattern[str], str, int]]) -> None:
        self.codes = codes

    def on_parse(self) -> Iterator[None]:
        yield
        self._code_errors()

    def on_validate(self) -> Iterator[None]:
        yield
        self._code_errors()

    def _code_errors(self) -> None:
        for error in self.execution_context.pre_execution_errors or ():
            for pattern, code, limit in self.codes:
                if pattern.search(error.message):
                    error.extensions = {**(error.extensions or {}), "code": code, "limit": limit}
                    break


class RequestBodyLimit:
    """Answer 413 (problem+json) to a request whose body is longer than `max_bytes`, before the application reads
    it: by its ``Content-Length`` when it has one, else by counting the chunks as they arrive."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        # Without a trustworthy length, read the body here (it is small, or refused as soon as it is not) and
        # hand the application the same messages.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413, "Request too large",
            f"the request body is larger than the limit of {self.max_bytes} bytes; send a shorter query",
            PROBLEM_BASE + "request-too-large", scope.get("path"), max_bytes=self.max_bytes,
        )
        await response(scope, receive, send)

