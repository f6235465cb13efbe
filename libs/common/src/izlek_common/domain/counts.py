"""What a count measure counts: the ``counts`` mapping of a success criterion's measure.

The plans service writes it (its importer, or a coordinator through the API) and the gateway's dashboards read it,
so both go through :class:`Counted`. The mapping holds texts only, as the measure's contract requires:
``{"entity": "protocol", "kind": "standard_protocol", "statuses": "signed,in_force,renewed"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

PROTOCOL = "protocol"
PROTOCOL_STATUSES_IN_EFFECT = ("signed", "in_force", "renewed")
"""A protocol in one of these statuses binds its parties (the partners service's ``ACTIVE`` statuses)."""
STANDARD_PROTOCOL_KIND = "standard_protocol"
"""The kind of a protocol made from a standard protocol template (``protocols.yaml``, ``protocol_templates``)."""


@dataclass(frozen=True)
class Counted:
    """Entities of one kind (``protocol``), optionally of one sub-kind and in some statuses only.

    No ``kind`` counts every kind; no ``statuses`` counts protocols in effect (signed, in force or renewed) and
    any other entity in every status. ``template`` names the template the counted protocols are made from.
    """

    entity: str
    kind: str | None = None
    statuses: tuple[str, ...] = ()
    template: str | None = None

    @classmethod
    def of(cls, counts: Mapping[str, str] | None) -> Counted | None:
        """Read a measure's ``counts`` mapping; None when it names no entity."""
        if not counts or not counts.get("entity"):
            return None
        statuses = tuple(s.strip() for s in (counts.get("statuses") or "").split(",") if s.strip())
        return cls(entity=counts["entity"], kind=counts.get("kind") or None, statuses=statuses,
                   template=counts.get("template") or None)

    @property
    def counted_statuses(self) -> tuple[str, ...]:
        """The statuses that count: those named, or for protocols by default those in effect."""
        if self.statuses or self.entity != PROTOCOL:
            return self.statuses
        return PROTOCOL_STATUSES_IN_EFFECT

    def as_counts(self) -> dict[str, str]:
        """The ``counts`` mapping of a measure."""
        counts = {"entity": self.entity}
        if self.kind is not None:
            counts["kind"] = self.kind
        if self.statuses:
            counts["statuses"] = ",".join(self.statuses)
        if self.template is not None:
            counts["template"] = self.template
        return counts
