"""What the pages read: the gateway's own GraphQL schema, executed in-process as the visitor, so the access rules
and partner-app scopes of the API apply to the pages too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from izlek_common.auth import Principal
from izlek_gateway.graphql.context import GatewayContext
from izlek_gateway.graphql.schema import schema


class ReadFailed(Exception):
    """The read models could not answer a page's query (e.g. a date out of range)."""


class Reader:
    """Runs GraphQL documents against the read models as a principal."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def __call__(self, principal: Principal, document: str, **variables: Any) -> dict[str, Any]:
        with self.engine.connect() as connection:
            context = GatewayContext(connection=connection, principal=principal)
            try:
                result = await schema.execute(document, variable_values=variables, context_value=context)
            finally:
                context.close()
        if result.errors:
            raise ReadFailed("; ".join(error.message for error in result.errors))
        assert result.data is not None
        return result.data

    async def commitments(self, principal: Principal, **filters: Any) -> list[dict[str, Any]]:
        """Every commitment matching `filters` (``planId``, ``actorGroup``, ``organisationId``), page by page."""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            data = await self(principal, COMMITMENTS, after=after, **filters)
            connection = data["commitments"]
            found.extend(edge["node"] for edge in connection["edges"])
            if not connection["pageInfo"]["hasNextPage"]:
                return found
            after = connection["pageInfo"]["endCursor"]


HISTORY_ENTRY = """fragment Entry on HistoryEntry {
  service version entityType name kind author authorName role organisation recordedAt validAt validPrecision
  reason correlationId
}"""

ORGANISATION_NAME = """query Name($code: String!) { organisation(code: $code) { name } }"""

PLANS = "{ plans { id code title titleEn region } }"

DASHBOARD = """query Dashboard($planId: ID!, $asOf: PointInTime, $validAt: PointInTime) {
  plans { id code title titleEn }
  plan(id: $planId, asOf: $asOf, validAt: $validAt) { id code title titleEn region }
  dashboard(planId: $planId, asOf: $asOf, validAt: $validAt) {
    today
    criteria {
      criterionId code text group measureKind unit value target achievementPercent band status note period
      override { band reason period }
      periodOverrides { band reason period }
      parts { text measureKind unit value target achievementPercent band status note }
      coverage {
        kind covered target
        breakdown { organisationType label covered found target }
        counted { id code title status }
        notInEffect { id code title status }
      }
    }
    commitments {
      total overdue
      byStatus { status count overdue }
      groups { actorGroup name total overdue byStatus { status count overdue } }
      overdueCommitments { id code title targetCode dueDate status actorGroup organisationId }
    }
    indicators {
      id code name unit direction baseline
      periods { period target actual achievementPercent band note override { band reason } }
    }
    quotaCompliance {
      protocolId code title status quotaPercent categories
      compliance {
        municipalityCode municipalityName period quotaPercent confirmedTotal awaitingConfirmationTotal
        disputedTotal declaredVolume undeclaredCategories sharePercent met
      }
    }
  }
  protocols(asOf: $asOf, validAt: $validAt) {
    id code title kind status statusValidAt validPrecision statusEvidenceReference
    parties { organisationCode organisation { name shortName } }
  }
}"""

COMMITMENTS = """query Commitments($planId: ID, $actorGroup: String, $organisationId: String, $after: String) {
  commitments(planId: $planId, actorGroup: $actorGroup, organisationId: $organisationId, first: 200,
              after: $after) {
    edges { node { id planId code title targetCode actorGroup organisationId dueDate status overdue version } }
    pageInfo { hasNextPage endCursor }
  }
}"""

ACTOR_GROUPS = """{ plans { id code title titleEn actorGroups { code name nameEn organisationIds } } }"""

ORGANISATIONS = """query Organisations($type: String) { organisations(type: $type) { id code name shortName type } }"""

LIAISON = """query Liaison($org: String!) {
  organisation(code: $org) { code name shortName type }
  protocols(party: $org) {
    id code title kind status statusValidAt validPrecision statusEvidenceReference termStart termEnd
    purchaseCommitment version
    parties { organisationCode role organisation { name shortName } }
  }
  purchases(municipality: $org) {
    id municipalityCode cooperativeCode protocolId amount category purchasedOn invoiceReference status
    disputeReason version
  }
  cooperatives: organisations(type: "cooperative") { code name shortName }
}"""

COOPERATIVE = """query Cooperative($org: String!) {
  organisation(code: $org) { code name shortName type }
  purchases(cooperative: $org) {
    id municipalityCode cooperativeCode protocolId amount category purchasedOn invoiceReference status
    disputeReason version
  }
  organisations { code name shortName type }
  protocols { id code title }
}"""

AUDIT = HISTORY_ENTRY + """
query Audit($id: ID!, $asOf: PointInTime) {
  history(id: $id, asOf: $asOf) { ...Entry changes { field before after } }
  organisations { code name shortName }
}"""


def last_changes(count: int) -> str:
    """A query of the history of `count` entities at once (variables ``$e0``…), as of ``$asOf``."""
    variables = "".join(f", $e{n}: ID!" for n in range(count))
    fields = "\n".join(f"  e{n}: history(id: $e{n}, asOf: $asOf) {{ ...Entry }}" for n in range(count))
    return HISTORY_ENTRY + f"\nquery LastChanges($asOf: PointInTime{variables}) {{\n{fields}\n}}"


ENTITY_THEN = {
    "protocol": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  found: protocols(asOf: $asOf, validAt: $validAt) {
    id code title kind status statusValidAt validPrecision statusEvidenceReference termStart termEnd amendment
    version parties { organisationCode role }
  }
}""",
    "purchase": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  found: purchases(asOf: $asOf, validAt: $validAt) {
    id municipalityCode cooperativeCode amount category purchasedOn invoiceReference status disputeReason version
  }
}""",
    "organisation": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  found: organisations(asOf: $asOf, validAt: $validAt) { id code name shortName type version }
}""",
    "person": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  organisations(asOf: $asOf, validAt: $validAt) { people { id organisationCode name title } }
}""",
    "plan": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  found: plans(asOf: $asOf, validAt: $validAt) { id code title region version }
}""",
    "commitment": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  plans(asOf: $asOf, validAt: $validAt) {
    commitments { id code title targetCode actorGroup organisationId dueDate status version }
  }
}""",
    "criterion": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  plans(asOf: $asOf, validAt: $validAt) { criteria { id code text group version } }
}""",
    "indicator": """query Then($asOf: PointInTime, $validAt: PointInTime) {
  plans(asOf: $asOf, validAt: $validAt) { indicators { id code name unit direction baseline version } }
}""",
}
"""Per entity type, a query of every entity of that type at a point in time (the audit page picks its own)."""


def entity_then(entity_type: str, data: dict[str, Any], entity_id: str) -> dict[str, Any] | None:
    """The entity `entity_id` out of an `ENTITY_THEN` answer."""
    if "found" in data:
        candidates = data["found"]
    elif entity_type == "person":
        candidates = [p for organisation in data["organisations"] for p in organisation["people"]]
    else:
        key = {"commitment": "commitments", "criterion": "criteria", "indicator": "indicators"}[entity_type]
        candidates = [item for plan in data["plans"] for item in plan[key]]
    return next((item for item in candidates if str(item.get("id")) == entity_id), None)
