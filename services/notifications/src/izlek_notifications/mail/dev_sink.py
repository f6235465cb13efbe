"""The development mail sink: an SMTP server on this machine that writes every message it receives to a
directory as a .eml file (open it with any mail program, or read it as text). ``izlek run`` starts it."""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

log = structlog.get_logger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _WriteEml:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=default_policy)
        message_id = _UNSAFE.sub("_", str(parsed.get("Message-ID", "")).strip("<>"))[:80] or "message"
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{next(self.counter):04d}-{message_id}.eml"
        headers = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        await asyncio.to_thread(_write, self.directory / name, headers.encode() + content)
        log.info("dev_mail_sink.received", file=name, to=envelope.rcpt_tos, subject=str(parsed.get("Subject", "")))
        return "250 Message accepted for delivery"


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(path)


class DevMailSink:
    """``await start()`` binds it on the running loop (port 0: a free port) and returns the port."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        handler = _WriteEml(self.directory)
        loop = asyncio.get_running_loop()

        def protocol() -> Any:
            return SMTP(handler, hostname="izlek-dev-mail-sink", enable_SMTPUTF8=True, loop=loop)

        self._server = await loop.create_server(protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
