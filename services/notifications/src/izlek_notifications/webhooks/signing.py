"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over id, timestamp and body.

Every webhook request carries

- ``webhook-id``: the delivery's id, the same on every retry of it (receivers deduplicate on it);
- ``webhook-timestamp``: seconds since the Unix epoch when this attempt was signed (receivers refuse old ones);
- ``webhook-signature``: ``v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, where the key is the
  base64-decoded part of the secret after ``whsec_``. While a rotated secret's grace period lasts, a second
  signature made with the previous secret follows, separated by a space.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_...`` secret."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<signature>`` entry."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_in_use: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret in use, separated by spaces."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_use)


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any signature in ``header`` was made with ``secret`` (what a receiver does)."""
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
