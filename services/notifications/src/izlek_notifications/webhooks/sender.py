"""Sending one webhook: POST of the CloudEvent JSON, signed, to the address the guard just checked.

The URL is checked again before every attempt (its host may now resolve elsewhere), and the request is sent to
the checked address itself, with the URL's host name in ``Host`` and, for https, in the TLS server name and
certificate check. Redirects are not followed (a 3xx is a failed attempt), proxies from the environment are not
used, and the whole attempt is bounded by the timeout.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import httpx

from izlek_common.cloudevents import CLOUDEVENTS_JSON_MEDIA_TYPE
from izlek_notifications.domain.errors import UnsafeWebhookURL
from izlek_notifications.state.secrets import SecretStore
from izlek_notifications.webhooks.addresses import WebhookGuard
from izlek_notifications.webhooks.signing import signature_header

USER_AGENT = "Izlek-Webhooks/1.0 (+https://izlek.dev/docs/notifications)"
ERROR_BODY_BYTES = 500


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    final: bool = False
    """No retry can help (the URL is refused): the delivery dies at once."""


class WebhookSender:
    """Sends signed webhooks with one shared HTTP client."""

    def __init__(self, guard: WebhookGuard, secrets: SecretStore, *, timeout: float) -> None:
        self.guard = guard
        self.secrets = secrets
        self.timeout = timeout
        self.client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=httpx.Timeout(timeout),
                                        headers={"user-agent": USER_AGENT})

    async def close(self) -> None:
        await self.client.aclose()

    async def send(self, *, delivery_id: str, subscription_id: str, url: str, payload: str,
                   now: datetime) -> Outcome:
        try:
            target = await asyncio.to_thread(self.guard.check, url)
        except UnsafeWebhookURL as exc:
            return Outcome(False, error=f"refused: {exc}", final=exc.category is not None)
        secrets = await asyncio.to_thread(self.secrets.in_use, subscription_id, now)
        if secrets is None:
            return Outcome(False, error="the subscription has no signing secret", final=True)
        body = payload.encode("utf-8")
        timestamp = int(now.timestamp())
        default_port = 443 if target.scheme == "https" else 80
        host = f"[{target.host}]" if ":" in target.host else target.host
        host_header = host if target.port == default_port else f"{host}:{target.port}"
        request = self.client.build_request(
            "POST", httpx.URL(url).copy_with(host=str(target.address)), content=body,
            headers={
                "host": host_header,
                "content-type": f"{CLOUDEVENTS_JSON_MEDIA_TYPE}; charset=utf-8",
                "webhook-id": delivery_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature_header(secrets.all(), delivery_id, timestamp, body),
            },
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        )
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.client.send(request, stream=True)
                try:
                    if 200 <= response.status_code < 300:
                        return Outcome(True, response.status_code)
                    text = await _start_of(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return Outcome(False, error=f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        where = f" (to {response.headers.get('location')})" if response.is_redirect else ""
        return Outcome(False, response.status_code,
                       error=f"HTTP {response.status_code}{where}" + (f": {text}" if text else ""))


async def _start_of(response: httpx.Response) -> str:
    chunks = b""
    async for chunk in response.aiter_raw():
        chunks += chunk
        if len(chunks) >= ERROR_BODY_BYTES:
            break
    return chunks[:ERROR_BODY_BYTES].decode("utf-8", errors="replace").strip()
