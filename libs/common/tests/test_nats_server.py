"""The embedded nats-server and the JetStream helpers, against real nats-server processes."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from nats.js.api import StorageType

from izlek_common.jetstream import (
    connect,
    durable_name_for,
    ensure_stream,
    stream_name_for,
    stream_subjects_for,
    subject_for,
    subject_prefix_for,
)
from izlek_common.nats_server import (
    BINARY_ENV_VAR,
    EmbeddedNatsServer,
    NatsServerNotFound,
    NatsServerStartError,
    find_free_port,
    nats_server_binary,
)

pytestmark = [pytest.mark.nats, pytest.mark.timeout(60)]


async def publish_numbers(url: str, subject: str, count: int) -> None:
    client = await connect(url, "test-publisher", initial_connect_timeout=10)
    try:
        js = client.jetstream()
        await ensure_stream(js, "PLANS", ["izlek.plans.>"])
        for number in range(1, count + 1):
            await js.publish(subject, str(number).encode(), headers={"Nats-Msg-Id": f"plans:{number}"})
    finally:
        await client.close()


async def stream_contents(url: str, stream: str) -> list[bytes]:
    client = await connect(url, "test-reader", initial_connect_timeout=10)
    try:
        js = client.jetstream()
        info = await js.stream_info(stream)
        return [
            (await js.get_msg(stream, seq)).data or b""
            for seq in range(info.state.first_seq, info.state.last_seq + 1)
        ]
    finally:
        await client.close()


# -- the server ---------------------------------------------------------------------------------------------


async def test_the_embedded_server_accepts_clients_with_jetstream(nats_server: EmbeddedNatsServer) -> None:
    assert nats_server.is_running
    assert nats_server.url == f"nats://127.0.0.1:{nats_server.port}"

    client = await connect(nats_server.url, "test", initial_connect_timeout=5)
    try:
        account = await client.jetstream().account_info()
    finally:
        await client.close()

    assert account.limits is not None


def test_stopping_the_server_ends_its_process_and_frees_the_port(tmp_path: Path) -> None:
    server = EmbeddedNatsServer(tmp_path / "store")
    server.start()
    pid = server.pid

    server.stop()

    assert pid is not None
    assert not server.is_running
    assert server.pid is None
    assert find_free_port(server.port) == server.port


def test_the_server_works_as_a_context_manager(tmp_path: Path) -> None:
    with EmbeddedNatsServer(tmp_path / "store") as server:
        assert server.is_running
        with socket.create_connection(("127.0.0.1", server.port), timeout=2):
            pass
    assert not server.is_running


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_a_restarted_server_keeps_its_port_and_its_jetstream_messages(
    nats_server: EmbeddedNatsServer, how: str
) -> None:
    url_before = nats_server.url
    await publish_numbers(nats_server.url, "izlek.plans.plan.created.v1", 3)

    if how == "kill":
        nats_server.kill()
    else:
        nats_server.stop()
    assert not nats_server.is_running
    nats_server.start()

    assert nats_server.url == url_before
    assert await stream_contents(nats_server.url, "PLANS") == [b"1", b"2", b"3"]


async def test_a_new_server_on_the_same_store_directory_finds_the_streams(tmp_path: Path) -> None:
    with EmbeddedNatsServer(tmp_path / "store") as first:
        await publish_numbers(first.url, "izlek.plans.plan.created.v1", 2)

    with EmbeddedNatsServer(tmp_path / "store") as second:
        assert await stream_contents(second.url, "PLANS") == [b"1", b"2"]


def test_restart_brings_a_stopped_server_back(nats_server: EmbeddedNatsServer) -> None:
    nats_server.restart()
    assert nats_server.is_running
    nats_server.stop()
    nats_server.restart()
    assert nats_server.is_running


def test_starting_on_a_port_in_use_fails_with_a_clear_error(
    nats_server: EmbeddedNatsServer, tmp_path: Path
) -> None:
    intruder = EmbeddedNatsServer(tmp_path / "other", port=nats_server.port)

    with pytest.raises(NatsServerStartError, match=f"port 127.0.0.1:{nats_server.port} is already in use"):
        intruder.start()

    assert not intruder.is_running


def test_a_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    missing = tmp_path / "missing.conf"
    server = EmbeddedNatsServer(tmp_path / "store", extra_args=["-c", str(missing)])

    with pytest.raises(NatsServerStartError, match="exited with code 1") as raised:
        server.start()

    assert f"open {missing}: no such file or directory" in str(raised.value)
    assert not server.is_running


def test_the_log_file_receives_the_server_output(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "nats.log"
    with EmbeddedNatsServer(tmp_path / "store", log_file=log_file) as server:
        assert "Server is ready" in server.log_tail()
    assert "Server is ready" in log_file.read_text()


def test_find_free_port_returns_the_preferred_port_when_it_is_free() -> None:
    port = find_free_port()
    assert find_free_port(port) == port


def test_find_free_port_returns_another_port_when_the_preferred_one_is_taken() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]

        chosen = find_free_port(taken)

    assert chosen != taken
    assert chosen > 0


def test_the_binary_is_found_next_to_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BINARY_ENV_VAR, raising=False)
    binary = nats_server_binary()
    assert binary.name == "nats-server"
    assert binary.is_file()


def test_the_binary_can_be_chosen_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BINARY_ENV_VAR, raising=False)
    real = nats_server_binary()
    monkeypatch.setenv(BINARY_ENV_VAR, str(real))
    assert nats_server_binary() == real


def test_a_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(BINARY_ENV_VAR, str(tmp_path / "nowhere" / "nats-server"))
    with pytest.raises(NatsServerNotFound, match=BINARY_ENV_VAR):
        nats_server_binary()


# -- the JetStream helpers ----------------------------------------------------------------------------------


def test_names_follow_the_izlek_scheme() -> None:
    assert stream_name_for("plans") == "PLANS"
    assert subject_prefix_for("plans") == "izlek.plans"
    assert stream_subjects_for("plans") == ["izlek.plans.>"]
    assert (
        subject_for("plans", "commitment", "status_changed", 1) == "izlek.plans.commitment.status_changed.v1"
    )
    assert durable_name_for("gateway", "plans") == "gateway-from-plans"


@pytest.mark.parametrize("bad", ["Plans", "plans.x", "", "pl ans", "plans>"])
def test_names_with_subject_separators_or_capitals_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        stream_name_for(bad)


async def test_ensure_stream_is_idempotent(nats_server: EmbeddedNatsServer) -> None:
    client = await connect(nats_server.url, "test", initial_connect_timeout=5)
    try:
        js = client.jetstream()
        first = await ensure_stream(js, "PLANS", ["izlek.plans.>"])
        await js.publish("izlek.plans.plan.created.v1", b"1")
        second = await ensure_stream(js, "PLANS", ["izlek.plans.>"])
    finally:
        await client.close()

    assert first.config.name == second.config.name == "PLANS"
    assert second.config.subjects == ["izlek.plans.>"]
    assert second.state.messages == 1
    assert second.config.allow_direct is True
    assert second.config.storage == StorageType.FILE
    assert second.config.duplicate_window == 600
    assert not second.config.max_age
    assert second.config.max_msgs == -1


async def test_ensure_stream_updates_an_existing_stream_to_the_new_configuration(
    nats_server: EmbeddedNatsServer,
) -> None:
    client = await connect(nats_server.url, "test", initial_connect_timeout=5)
    try:
        js = client.jetstream()
        await ensure_stream(js, "PLANS", ["izlek.plans.>"], duplicate_window_seconds=60)
        await js.publish("izlek.plans.plan.created.v1", b"kept")
        updated = await ensure_stream(js, "PLANS", ["izlek.plans.>", "izlek.legacy.>"])
    finally:
        await client.close()

    assert sorted(updated.config.subjects or []) == ["izlek.legacy.>", "izlek.plans.>"]
    assert updated.config.duplicate_window == 600
    assert updated.state.messages == 1


async def test_a_republished_message_id_is_stored_once(nats_server: EmbeddedNatsServer) -> None:
    client = await connect(nats_server.url, "test", initial_connect_timeout=5)
    try:
        js = client.jetstream()
        await ensure_stream(js, "PLANS", ["izlek.plans.>"])
        first = await js.publish("izlek.plans.plan.created.v1", b"x", headers={"Nats-Msg-Id": "plans:1"})
        again = await js.publish("izlek.plans.plan.created.v1", b"x", headers={"Nats-Msg-Id": "plans:1"})
        info = await js.stream_info("PLANS")
    finally:
        await client.close()

    assert again.duplicate
    assert again.seq == first.seq
    assert info.state.messages == 1


async def test_a_client_reconnects_after_the_server_restarts(nats_server: EmbeddedNatsServer) -> None:
    client = await connect(nats_server.url, "test", initial_connect_timeout=5)
    try:
        js = client.jetstream()
        await ensure_stream(js, "PLANS", ["izlek.plans.>"])

        await asyncio.to_thread(nats_server.stop)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(nats_server.start)

        ack = await js.publish("izlek.plans.plan.created.v1", b"after restart", timeout=10)
    finally:
        await client.close()

    assert ack.seq == 1
    assert client.stats["reconnects"] >= 1


async def test_the_first_connection_waits_for_a_server_that_starts_late(tmp_path: Path) -> None:
    server = EmbeddedNatsServer(tmp_path / "store")
    connecting = asyncio.create_task(connect(server.url, "early-bird"))
    await asyncio.sleep(0.5)
    assert not connecting.done()

    await asyncio.to_thread(server.start)
    try:
        client = await asyncio.wait_for(connecting, 10)
        assert client.is_connected
        await client.close()
    finally:
        server.stop()


async def test_a_bounded_first_connection_gives_up(tmp_path: Path) -> None:
    port = find_free_port()
    with pytest.raises(asyncio.TimeoutError):
        await connect(f"nats://127.0.0.1:{port}", "impatient", initial_connect_timeout=1)
