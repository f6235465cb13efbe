"""Which plans a caller may see: every plan, except for partner apps, which see the plans their token's scopes
name.

A partner app's token carries scopes such as ``plan:izmir-2021`` (a plan by code), ``region:İzmir`` (every plan of
a region, compared without regard to case) or ``plan:*`` (every plan). A partner app with none of these sees no
plan. Organisations, protocols and purchases are the shared directory and are visible to every caller.
"""

from __future__ import annotations

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
        return cls(
            plan_codes=frozenset(s.removeprefix(PLAN_SCOPE) for s in principal.scopes if s.startswith(PLAN_SCOPE)),
            regions=frozenset(s.removeprefix(REGION_SCOPE).casefold() for s in principal.scopes
                              if s.startswith(REGION_SCOPE)),
        )

    @property
    def is_unrestricted(self) -> bool:
        return self.plan_codes is None and self.regions is None

    def allows(self, code: str, region: str | None) -> bool:
        """True when the plan with `code` in `region` is visible."""
        if self.is_unrestricted:
            return True
        return code in (self.plan_codes or ()) or (region or "").casefold() in (self.regions or ())
