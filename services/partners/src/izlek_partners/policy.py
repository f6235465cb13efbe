"""Who may change what in the partners service (design, sections 1 and 5; issue 3, "Access")."""

from __future__ import annotations

from izlek_common.domain.stamp import Author
from izlek_common.eventsourced.errors import NotPermitted
from izlek_partners.domain.protocol import Protocol

EDITORS = frozenset({"coordinator", "admin"})
"""Manage organisations, people, liaisons and protocols."""


def require_editor(author: Author, action: str) -> None:
    if author.role not in EDITORS:
        raise NotPermitted(f"role '{author.role}' may not {action}; allowed roles: admin, coordinator")


def require_editor_or_party_liaison(author: Author, protocol: Protocol, action: str) -> None:
    """Editors, or a liaison of a municipality that is party to the protocol."""
    if author.role in EDITORS:
        return
    if author.role == "liaison" and author.organisation_id and protocol.is_party(author.organisation_id):
        return
    if author.role == "liaison":
        raise NotPermitted(f"{author.organisation_id} is not a party of protocol {protocol.code}; "
                           f"its liaison may not {action}")
    raise NotPermitted(f"role '{author.role}' may not {action}; allowed roles: admin, coordinator, and liaisons "
                       "of the municipalities party to the protocol")


def require_editor_or_liaison_of(author: Author, municipality_code: str, action: str) -> None:
    """Editors, or a liaison of this very municipality."""
    if author.role in EDITORS:
        return
    if author.role == "liaison" and author.organisation_id == municipality_code:
        return
    if author.role == "liaison":
        raise NotPermitted(f"a liaison of {author.organisation_id} may not {action} for {municipality_code}")
    raise NotPermitted(f"role '{author.role}' may not {action}; allowed roles: admin, coordinator, and the "
                       "municipality's liaison")


def require_member_of(author: Author, cooperative_code: str, action: str) -> None:
    """Only the cooperative itself confirms or disputes what was bought from it."""
    if author.role == "member" and author.organisation_id == cooperative_code:
        return
    if author.role == "member":
        raise NotPermitted(f"a member of {author.organisation_id} may not {action} of {cooperative_code}")
    raise NotPermitted(f"role '{author.role}' may not {action}; only members of the cooperative may")


def require_writer_role(author: Author, roles: frozenset[str], action: str) -> None:
    """Checked before anything is read, so a role that may never do this learns so first."""
    if author.role not in roles:
        raise NotPermitted(f"role '{author.role}' may not {action}; allowed roles: {', '.join(sorted(roles))}")
