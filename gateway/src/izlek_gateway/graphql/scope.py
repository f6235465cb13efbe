"""Which plans a caller may see: every plan, except for partner apps, which see the plans their token's scopes
name.

A partner app's token carries scopes such as ``plan:izmir-eylem-plani`` (a plan by its exact code),
``region:İzmir`` (every plan of a region) or ``plan:*`` (every plan). A partner app with none of these sees no
plan, and so none of its goals, commitments, history or changes; scopes of other kinds are ignored.
Organisations, protocols and purchases are the shared directory and are visible to every caller.

Regions are compared as people type Turkish names: without regard to letter case or diacritics, the dotted and
dotless i being one letter, so ``region:İzmir``, ``region:izmir``, ``region:IZMIR`` and ``region:Izmir`` are
one region. A token's scopes are separated by spaces, so a space in a region's name is written ``_``
(``region:Batı_Karadeniz``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from izlek_common.auth import Principal, Role

PLAN_SCOPE = "plan:"
REGION_SCOPE = "region:"
EVERY_PLAN = "plan:*"


@dataclass(frozen=True)
class PlanScope:
    """The plans visible to one caller; ``plan_codes`` and ``regions`` are None when every plan is."""

    plan_codes: frozenset[str] | None = None
    regions: frozenset[str] | None = None

    @classmethod
    def of(cls, principal: Principal) -> PlanScope:
        if principal.role is not Role.partner_app or EVERY_PLAN in principal.scopes:
            return cls()
        plan_codes = {s.removeprefix(PLAN_SCOPE) for s in principal.scopes if s.startswith(PLAN_SCOPE)}
        regions = {region_key(s.removeprefix(REGION_SCOPE)) for s in principal.scopes if s.startswith(REGION_SCOPE)}
        # "region:" names no region; it must not match the plans whose region is blank.
        return cls(plan_codes=frozenset(plan_codes), regions=frozenset(regions - {""}))

    @property
    def is_unrestricted(self) -> bool:
        return self.plan_codes is None and self.regions is None

    def allows(self, code: str, region: str | None) -> bool:
        """True when the plan with `code` in `region` is visible."""
        if self.is_unrestricted:
            return True
        return code in (self.plan_codes or ()) or region_key(region or "") in (self.regions or ())


def region_key(name: str) -> str:
    """`name` as regions are compared: ``region_key("İzmir") == region_key("IZMIR") == "izmir"``."""
    # "İzmir".casefold() is "i̇zmir" (an i and a combining dot), not "izmir": drop the marks first.
    letters = unicodedata.normalize("NFKD", name.replace("_", " ").replace("ı", "i"))
    plain = "".join(c for c in letters if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())
