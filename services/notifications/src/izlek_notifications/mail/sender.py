"""Sending one e-mail over SMTP (aiosmtplib) to the configured server, or to the development sink."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import aiosmtplib

from izlek_notifications.mail.rendering import MailRenderer


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str = "starttls"
    """``none``, ``starttls`` or ``tls``."""
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


class MailSender:
    """Renders a delivery's message in its language and hands it to the SMTP server."""

    def __init__(self, server: SmtpServer | None, renderer: MailRenderer, *, sender: str) -> None:
        self.server = server
        self.renderer = renderer
        self.sender = sender

    def message(self, *, delivery_id: str, event_id: str, event_type: str, template: str, language: str,
                to: str, context: dict[str, Any], now: datetime) -> Message:
        """The message of a delivery; its Message-ID is the delivery's, the same on every retry.

        Built with the classic ``email.mime`` API: the modern ``EmailMessage`` folds a long non-ASCII subject into
        encoded words that lose the space between them ("protokolü – Çiğli" arrives as "protokolü– Çiğli").
        """
        rendered = self.renderer.render(template, language, context)
        message: Message
        if rendered.html is None:
            message = MIMEText(rendered.text, "plain", _utf8_quoted_printable())
        else:
            message = MIMEMultipart("alternative")
            message.attach(MIMEText(rendered.text, "plain", _utf8_quoted_printable()))
            message.attach(MIMEText(rendered.html, "html", _utf8_quoted_printable()))
        name, address = parseaddr(self.sender)
        message["From"] = formataddr((name, address), charset="utf-8")
        message["To"] = to
        message["Subject"] = Header(rendered.subject, "utf-8")
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{delivery_id}@izlek>"
        message["Content-Language"] = language
        message["Auto-Submitted"] = "auto-generated"
        message["X-Izlek-Event-Id"] = event_id
        message["X-Izlek-Event-Type"] = event_type
        return message

    async def send(self, message: Message) -> None:
        """Raises when the server does not take the message (the worker retries)."""
        if self.server is None:
            raise RuntimeError("no SMTP server is configured (IZLEK_NOTIFICATIONS_SMTP_HOST)")
        server = self.server
        await aiosmtplib.send(
            message, hostname=server.host, port=server.port, username=server.username, password=server.password,
            use_tls=server.security == "tls", start_tls=server.security == "starttls", timeout=server.timeout)


def _utf8_quoted_printable() -> Charset:
    """UTF-8 bodies as quoted-printable, so a .eml file stays readable as text."""
    charset = Charset("utf-8")
    charset.body_encoding = QP
    return charset
