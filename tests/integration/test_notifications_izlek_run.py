"""`izlek run` with the İzmir demo: the notifications service runs beside the others, with a development mail sink
that writes each message to var/mail/ and says so; a protocol signed into force reaches KEDV's contact there."""

from __future__ import annotations

import os
import re
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest
from conftest import EXAMPLES, ServiceProcess

pytestmark = [pytest.mark.nats, pytest.mark.timeout(180)]


def wait_for_line(process: ServiceProcess, pattern: str, timeout: float = 90) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.process is not None and process.process.poll() is None, process.log_tail()
        match = re.search(pattern, process.log_path.read_text(errors="replace"))
        if match:
            return match
        time.sleep(0.1)
    raise TimeoutError(f"no line matching {pattern!r}:\n{process.log_tail()}")


def test_izlek_run_sends_the_demos_notifications_to_a_mail_sink_under_var_mail(tmp_path: Path,
                                                                               coordinator_headers) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IZLEK_")}
    env.update({"IZLEK_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "300"})
    run = ServiceProcess(["run", "--demo-data", str(EXAMPLES)], env, tmp_path / "izlek-run.log")
    run.start()
    try:
        mail_dir = Path(wait_for_line(run, r"e-mails are written to (\S+)/ as \.eml files").group(1))
        assert mail_dir == (tmp_path / "var" / "mail").resolve()
        partners = wait_for_line(run, r"partners API on (http://127\.0\.0\.1:\d+)").group(1)
        notifications = wait_for_line(run, r"notifications API on (http://127\.0\.0\.1:\d+)").group(1)
        protocol = httpx.get(f"{partners}/protocols?party=cigli-belediyesi", headers=coordinator_headers).json()[0]

        moved = httpx.post(f"{partners}/protocols/{protocol['id']}/status", headers=coordinator_headers,
                           json={"status": "in_force", "reason": "protokol yürürlüğe girdi"})
        assert moved.status_code == 200, moved.text

        deadline = time.monotonic() + 60
        while not list(mail_dir.glob("*.eml")):
            assert time.monotonic() < deadline, run.log_tail()
            time.sleep(0.2)
        [eml] = list(mail_dir.glob("*.eml"))
        message = message_from_bytes(eml.read_bytes(), policy=default_policy)
        assert message["To"] == "kedv@kedv.org.tr"
        assert message["Subject"] == "Protokolün durumu değişti: İş birliği protokolü – Çiğli Belediyesi (yürürlükte)"
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "imzalandı → yürürlükte" in body and "Gerekçe: protokol yürürlüğe girdi" in body
        deadline = time.monotonic() + 30
        while (deliveries := httpx.get(f"{notifications}/deliveries", headers=coordinator_headers).json())[0][
                "state"] != "delivered":  # the sink wrote the file before the service heard "250" and recorded it
            assert time.monotonic() < deadline, deliveries
            time.sleep(0.1)
        assert [(d["recipient"], d["state"]) for d in deliveries] == [("contact:kedv", "delivered")]
        assert not list(mail_dir.glob("*.part"))
    finally:
        run.stop()
    assert run.process is not None and run.process.returncode == 0, run.log_tail()
