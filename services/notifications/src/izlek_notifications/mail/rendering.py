"""Messages from Jinja2 templates: subject, text body and (when the template has one) an HTML body, in the
recipient's language. Templates live in ``templates/<language>/``; words and dates come from `labels`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from izlek_notifications.mail import labels

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("tr", "en")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None = None


class MailRenderer:
    """Renders the messages; one per process (templates are compiled once)."""

    def __init__(self, directory: Path = TEMPLATES) -> None:
        self.environment = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, template: str, language: str, context: dict[str, Any]) -> RenderedMail:
        """The message of ``template`` in ``language`` (tr or en) with ``context``."""
        if language not in LANGUAGES:
            raise ValueError(f"no templates in {language!r}")
        variables = {**context, **helpers(language, context)}
        subject = self._render(f"{language}/{template}.subject.j2", variables)
        text = self._render(f"{language}/{template}.txt.j2", variables)
        try:
            html = self._render(f"{language}/{template}.html.j2", variables)
        except TemplateNotFound:
            html = None
        # A subject is one line: a header folded from a template's stray newline would break the message.
        return RenderedMail(subject=" ".join(subject.split()), text=text, html=html)

    def _render(self, name: str, variables: dict[str, Any]) -> str:
        return self.environment.get_template(name).render(variables)


def helpers(language: str, context: dict[str, Any]) -> dict[str, Any]:
    """Functions the templates call, bound to the language."""
    names: dict[str, str] = context.get("organisations") or {}
    return {
        "language": language,
        "protocol_status": partial(labels.protocol_status, language=language),
        "commitment_status": partial(labels.commitment_status, language=language),
        "role": partial(labels.role, language=language),
        "kind": partial(labels.entity_kind, language=language),
        "event_label": partial(labels.event_label, language=language),
        "date": lambda value, precision=None: labels.long_date(value, language, precision),
        "datetime": partial(labels.long_datetime, language=language),
        "partial_date": partial(labels.partial_date, language=language),
        "days": partial(labels.days, language=language),
        "organisation": lambda code: names.get(code, code),
        "status": lambda kind, value: (labels.protocol_status(value, language) if kind == "protocol"
                                       else labels.commitment_status(value, language)),
    }
