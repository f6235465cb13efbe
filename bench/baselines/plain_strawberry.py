"""The baseline of workload 5: stock strawberry under uvicorn serving a plan's dashboard that is already in memory.

The dashboard is computed once at start from the gateway's read models, with the gateway's own GraphQL types, so
the same query gets the same payload; each request then costs only strawberry's execution and serialisation
(no database, no authentication, no cache): what the stock stack spends on that payload.

    python -m bench.baselines.plain_strawberry --database-url URL --plan-id ID --port PORT
"""

from __future__ import annotations

import argparse

import strawberry
import uvicorn
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter

from izlek_common.turkish_time import today_in_turkey
from izlek_gateway.dashboards import plan_dashboard
from izlek_gateway.graphql.dashboard import PlanDashboard
from izlek_gateway.graphql.scalars import SCALARS
from izlek_gateway.read_models.database import create_read_model_engine


def create_app(result: object) -> FastAPI:
    @strawberry.type
    class Query:
        @strawberry.field
        def dashboard(self, plan_id: strawberry.ID) -> PlanDashboard | None:
            return PlanDashboard.from_result(result)  # type: ignore[arg-type]

    schema = strawberry.Schema(query=Query, config=strawberry.schema.config.StrawberryConfig(scalar_map=SCALARS))
    app = FastAPI()
    app.include_router(GraphQLRouter(schema, graphql_ide=None), prefix="/graphql")

    @app.get("/readyz")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--plan-id", required=True)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    engine = create_read_model_engine(arguments.database_url)
    with engine.connect() as connection:
        result = plan_dashboard(connection, arguments.plan_id, today_in_turkey())
    engine.dispose()
    uvicorn.run(create_app(result), host="127.0.0.1", port=arguments.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
