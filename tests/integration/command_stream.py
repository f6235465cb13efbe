"""A steady stream of real HTTP commands to the plans and partners APIs, and the ledger of what became of each.

Several clients send at once, each with entities of its own so that the versions it expects are right: plans
clients move their share of the İzmir commitments between planned and in progress, with a reason; partners
clients record purchases İzmir Büyükşehir makes from the Urla cooperative, which the cooperative then confirms.
Every eighth command must be refused: a stale expected version (409), a malformed body (422), or a role that may not
(403), in turn. Each command carries a correlation id of its own (``X-Correlation-ID``) that its event carries on
into the store, the stream, the read models and the webhook, so that it can be looked for everywhere.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from izlek_common.auth import issue_token
from izlek_common.settings import CommonSettings
from izlek_partners.domain.protocol import Protocol

IBB = "izmir-buyuksehir-belediyesi"
URLA = "ss-urla-kadin-girisimi-uretim-ve-isletme-kooperatifi"
IBB_PROTOCOL = Protocol.create_id("prot-2019-kedv-izmir-buyuksehir-belediyesi")
STATUS_CHANGED = "izlek.plans.commitment.status_changed.v1"
PURCHASE_RECORDED = "izlek.partners.purchase.recorded.v1"
PURCHASE_CONFIRMED = "izlek.partners.purchase.confirmed.v1"
REFUSED_EVERY = 8
REFUSALS = (409, 422, 403)
PAUSE_AFTER_FAILURE = 0.1
"""Seconds a client waits after a 5xx or a lost answer, so that an outage is not met with a flood."""

Outcome = Literal["accepted", "rejected", "unknown"]


@dataclass
class Command:
    """One HTTP command and its answer."""

    correlation_id: str
    action: str
    expected: int
    """The status it must be answered with when nothing is wrong with the system."""
    event_type: str | None
    """The event it records when accepted."""
    status: int | None = None
    error: str | None = None
    answered: bool = False

    @property
    def outcome(self) -> Outcome:
        if self.status is None:
            return "unknown"  # sent, but the answer was lost: it may or may not have been applied
        return "accepted" if 200 <= self.status < 300 else "rejected"

    def __str__(self) -> str:
        got = self.status if self.status is not None else self.error
        return f"{self.correlation_id} {self.action}: expected {self.expected}, got {got}"


@dataclass
class Ledger:
    """Every command sent, in the order sent, with its answer."""

    commands: list[Command] = field(default_factory=list)
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new(self, action: str, expected: int, event_type: str | None = None) -> Command:
        command = Command(f"fault-cmd-{next(self._numbers):05d}", action, expected, event_type)
        self.commands.append(command)
        return command

    def answered(self, outcome: Outcome) -> list[Command]:
        return [c for c in self.commands if c.answered and c.outcome == outcome]

    @property
    def accepted(self) -> list[Command]:
        return self.answered("accepted")

    @property
    def rejected(self) -> list[Command]:
        return self.answered("rejected")

    @property
    def unknown(self) -> list[Command]:
        return self.answered("unknown")

    def rejections(self) -> Counter[int]:
        """Rejected commands by status."""
        return Counter(c.status for c in self.rejected if c.status is not None)

    def unexpected(self, *, outage: bool = False) -> list[Command]:
        """Commands answered otherwise than they must be. During an outage of the database any command may be
        refused with 503 or lose its answer."""
        return [c for c in self.commands if c.answered and c.status != c.expected
                and not (outage and (c.status is None or c.status == 503))]


def bearer(subject: str, role: str, organisation_id: str | None = None) -> str:
    return issue_token(CommonSettings(environment="test"), subject=subject, role=role,
                       organisation_id=organisation_id, name=subject.split("@")[0])


class Client(abc.ABC):
    """Sends commands one after another until stopped, at most one per `interval` seconds; every
    ``REFUSED_EVERY``-th must be refused."""

    def __init__(self, http: httpx.AsyncClient, ledger: Ledger, interval: float) -> None:
        self.http = http
        self.ledger = ledger
        self.interval = interval
        self.auditor = bearer("denetci@kedv.org.tr", "auditor", "kedv")

    async def run(self, stop: asyncio.Event) -> None:
        refusals = itertools.cycle(REFUSALS)
        loop = asyncio.get_running_loop()
        for n in itertools.count(1):
            if stop.is_set():
                return
            started = loop.time()
            command = await (self.refused(next(refusals)) if n % REFUSED_EVERY == 0 else self.accepted())
            failed = command is not None and (command.status is None or command.status >= 500)
            pause = max(self.interval - (loop.time() - started), PAUSE_AFTER_FAILURE if failed else 0)
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)

    @abc.abstractmethod
    async def accepted(self) -> Command | None:
        """Send a command that must be accepted (None when the client had to read its entity again instead)."""

    @abc.abstractmethod
    async def refused(self, status: int) -> Command | None:
        """Send a command that must be refused with `status`."""

    async def send(self, command: Command, method: str, url: str, token: str,
                   body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Send `command`, record its answer; the answer's body when accepted."""
        headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": command.correlation_id}
        try:
            response = await self.http.request(method, url, headers=headers, json=body)
        except httpx.TransportError as exc:
            command.error = f"{type(exc).__name__}: {exc}"
            command.answered = True
            return None
        command.status, command.answered = response.status_code, True
        if command.outcome == "accepted":
            return response.json()
        command.error = response.text[:500]
        return None


@dataclass
class Commitment:
    id: str
    status: str
    version: int
    known: bool = True
    """False after a command on it was not accepted as expected: read it again before the next."""


class PlansClient(Client):
    """A coordinator moving commitments of its own between planned and in progress."""

    def __init__(self, http: httpx.AsyncClient, ledger: Ledger, interval: float, plans_url: str,
                 commitments: list[Commitment]) -> None:
        super().__init__(http, ledger, interval)
        self.url = plans_url
        self.commitments = commitments
        self.coordinator = bearer("ayse@kedv.org.tr", "coordinator", "kedv")
        self._turn = itertools.cycle(commitments)
        self.last_changed: Commitment | None = None

    async def accepted(self) -> Command | None:
        commitment = next(self._turn)
        if not commitment.known and not await self._read(commitment):
            return None
        status = "planned" if commitment.status == "in_progress" else "in_progress"
        command = self.ledger.new("change commitment status", 200, STATUS_CHANGED)
        answer = await self._change_status(command, commitment, self.coordinator, {
            "status": status, "expected_version": commitment.version})
        if answer is None:
            commitment.known = False
        else:
            commitment.status, commitment.version = answer["status"], answer["version"]
            self.last_changed = commitment
        return command

    async def refused(self, status: int) -> Command | None:
        commitment = self.last_changed
        if commitment is None or not commitment.known:
            return await self.accepted()
        target = "planned" if commitment.status == "in_progress" else "in_progress"
        command = self.ledger.new(f"change commitment status ({status})", status)
        if status == 409:  # the version before the last change
            body = {"status": target, "expected_version": commitment.version - 1}
            await self._change_status(command, commitment, self.coordinator, body)
        elif status == 422:
            await self._change_status(command, commitment, self.coordinator, {"status": "bitti"})
        else:  # an auditor reads, never writes
            body = {"status": target, "expected_version": commitment.version}
            await self._change_status(command, commitment, self.auditor, body)
        return command

    async def _change_status(self, command: Command, commitment: Commitment, token: str,
                             body: dict[str, Any]) -> dict[str, Any] | None:
        body = {**body, "reason": f"haftalık izleme ({command.correlation_id})"}
        return await self.send(command, "POST", f"{self.url}/commitments/{commitment.id}/status", token, body)

    async def _read(self, commitment: Commitment) -> bool:
        try:
            response = await self.http.get(f"{self.url}/commitments/{commitment.id}",
                                           headers={"Authorization": f"Bearer {self.coordinator}"})
        except httpx.TransportError:
            response = None
        if response is None or response.status_code != 200:
            await asyncio.sleep(PAUSE_AFTER_FAILURE)
            return False
        body = response.json()
        commitment.status, commitment.version, commitment.known = body["status"], body["version"], True
        return True


@dataclass
class Purchase:
    id: str
    version: int


class PartnersClient(Client):
    """İBB's liaison recording purchases from the Urla cooperative, and the cooperative confirming each."""

    def __init__(self, http: httpx.AsyncClient, ledger: Ledger, interval: float, partners_url: str) -> None:
        super().__init__(http, ledger, interval)
        self.url = partners_url
        self.liaison = bearer("elif@izmir.bel.tr", "liaison", IBB)
        self.member = bearer("fatma@urla.coop", "member", URLA)
        self.unconfirmed: Purchase | None = None
        self.last_confirmed: Purchase | None = None

    async def accepted(self) -> Command | None:
        if self.unconfirmed is None:
            command = self.ledger.new("record purchase", 201, PURCHASE_RECORDED)
            answer = await self._record(command, self.liaison)
            if answer is not None:
                self.unconfirmed = Purchase(answer["id"], answer["version"])
            return command
        purchase, self.unconfirmed = self.unconfirmed, None
        command = self.ledger.new("confirm purchase", 200, PURCHASE_CONFIRMED)
        answer = await self.send(command, "POST", f"{self.url}/purchases/{purchase.id}/confirm", self.member,
                                 {"expected_version": purchase.version})
        if answer is not None:
            self.last_confirmed = Purchase(answer["id"], answer["version"])
        return command

    async def refused(self, status: int) -> Command | None:
        if status == 409 and self.last_confirmed is not None:  # disputed on the version before the confirmation
            purchase = self.last_confirmed
            command = self.ledger.new("dispute purchase (409)", 409)
            await self.send(command, "POST", f"{self.url}/purchases/{purchase.id}/dispute", self.member, {
                "expected_version": purchase.version - 1, "reason": f"tutar hatalı ({command.correlation_id})"})
        elif status == 422:
            command = self.ledger.new("record purchase (422)", 422)
            await self._record(command, self.liaison, amount="on iki lira")
        else:  # an auditor reads, never writes
            command = self.ledger.new("record purchase (403)", 403)
            await self._record(command, self.auditor)
        return command

    async def _record(self, command: Command, token: str, amount: str | None = None) -> dict[str, Any] | None:
        number = int(command.correlation_id.rsplit("-", 1)[1])
        return await self.send(command, "POST", f"{self.url}/purchases", token, {
            "municipality_code": IBB, "cooperative_code": URLA, "protocol_id": str(IBB_PROTOCOL),
            "amount": amount or f"{100 + number % 900}.50", "category": "catering",
            "purchased_on": f"2024-{1 + number % 12:02d}-01", "invoice_reference": f"İBB-{command.correlation_id}",
            "reason": f"fatura ({command.correlation_id})"})


class CommandStream:
    """Plans and partners clients sending commands concurrently while the block runs, `rate` commands a second
    between them at most (a steady stream, not a flood that would only measure the machine); their answers go to
    `ledger`."""

    def __init__(self, plans_url: str, partners_url: str, ledger: Ledger, *, plans_clients: int = 3,
                 partners_clients: int = 2, rate: float = 25) -> None:
        self.plans_url = plans_url
        self.partners_url = partners_url
        self.ledger = ledger
        self.plans_clients = plans_clients
        self.partners_clients = partners_clients
        self.interval = (plans_clients + partners_clients) / rate
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> CommandStream:
        self.http = httpx.AsyncClient(timeout=30)
        commitments = await self._commitments()
        clients: list[Client] = [
            PlansClient(self.http, self.ledger, self.interval, self.plans_url, commitments[n::self.plans_clients])
            for n in range(self.plans_clients)]
        clients += [PartnersClient(self.http, self.ledger, self.interval, self.partners_url)
                    for _ in range(self.partners_clients)]
        self._tasks = [asyncio.create_task(client.run(self._stop), name=f"client-{n}")
                       for n, client in enumerate(clients)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self.http.aclose()

    async def until_accepted(self, more: int, timeout: float = 120) -> None:
        """Wait until `more` further commands have been accepted (the deadline only guards against a hang)."""
        target = len(self.ledger.accepted) + more
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.ledger.accepted) < target:
            self._raise_client_errors()
            assert asyncio.get_running_loop().time() < deadline, (
                f"only {len(self.ledger.accepted)} of {target} commands accepted; the last answers: "
                + "; ".join(str(c) for c in self.ledger.commands[-5:]))
            await asyncio.sleep(0.02)

    async def until_answered(self, more: int, timeout: float = 120) -> None:
        """Wait until `more` further commands have been answered, whatever the answer."""
        target = sum(1 for c in self.ledger.commands if c.answered) + more
        deadline = asyncio.get_running_loop().time() + timeout
        while sum(1 for c in self.ledger.commands if c.answered) < target:
            self._raise_client_errors()
            assert asyncio.get_running_loop().time() < deadline, f"fewer than {target} commands answered"
            await asyncio.sleep(0.02)

    async def next_accepted(self, timeout: float = 120) -> Command:
        """The first command sent from now on that is accepted."""
        sent = len(self.ledger.commands)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self._raise_client_errors()
            accepted = [c for c in self.ledger.commands[sent:] if c.answered and c.outcome == "accepted"]
            if accepted:
                return accepted[0]
            assert asyncio.get_running_loop().time() < deadline, "no command was accepted"
            await asyncio.sleep(0.02)

    def _raise_client_errors(self) -> None:
        for task in self._tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def _commitments(self) -> list[Commitment]:
        headers = {"Authorization": f"Bearer {bearer('ayse@kedv.org.tr', 'coordinator', 'kedv')}"}
        plans = (await self.http.get(f"{self.plans_url}/plans", headers=headers)).json()
        [plan] = plans
        response = await self.http.get(f"{self.plans_url}/plans/{plan['id']}/commitments", headers=headers)
        assert response.status_code == 200, response.text
        return [Commitment(c["id"], c["status"], c["version"]) for c in response.json()]
