"""End to end under faults: while HTTP clients keep sending commands to the plans and partners APIs (real
``izlek`` processes, the İzmir data imported, every store a database of its own on a PostgreSQL cluster of the
test's own), each part is SIGKILLed in turn and restarted while the commands keep flowing: the relays, the gateway
projector, the notifications service (the one documented resend window, between a webhook's 2xx and its record,
closed first), the nats-server (restarted on the same port and store), and PostgreSQL itself (its postmaster;
it recovers from its WAL).

After each fault the system settles, and every command accepted so far (2xx) is found exactly once in its
service's event store, once in its JetStream stream, once in the gateway's audit table and once at the webhook
subscribed to its event type, its signature verified; every refused one (a stale expected version 409, a malformed
body 422, a role that may not 403, and while PostgreSQL is down 503) left nothing anywhere; a command whose answer
was lost is either everywhere once or nowhere; and no command got another answer than it should have. The streams
hold every stored event once, in store order, and the audit table every one once. Each fault prints the counts it
compared, e.g. ``faults[relay]: accepted=812 rejected=95 stored=812 streamed=812 projected=812 delivered=812``.
"""

from __future__ import annotations

import pytest
from command_stream import Ledger
from faults import NATS, NOTIFICATIONS, PROJECTOR, RELAY, Stores, Tally, deploy, postgres_crash, survive

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.timeout(600)]


def report(result: Tally, capsys: pytest.CaptureFixture[str]) -> None:
    """Print the counts even under ``-q`` and output capture, then hold them to exactly once."""
    with capsys.disabled():
        print(f"\n{result.line()}")
    assert result.problems == [], "\n".join(result.problems[:30])


async def test_every_accepted_command_is_stored_streamed_projected_and_delivered_once_as_each_part_is_killed(
    postgres_cluster, nats_server, spawn, tmp_path, capsys
):
    # The fixtures in this order, so that the processes are stopped before NATS and PostgreSQL go away.
    stores = Stores(*(postgres_cluster.database() for _ in range(4)))
    ledger = Ledger()
    async with deploy(spawn, nats_server, stores, tmp_path / "var") as deployment:
        for fault in (RELAY, PROJECTOR, NOTIFICATIONS, NATS, postgres_crash(postgres_cluster)):
            report(await survive(deployment, ledger, fault), capsys)
