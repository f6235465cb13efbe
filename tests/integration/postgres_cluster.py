"""A PostgreSQL cluster of one test's own, which the test may kill (SIGKILL), stop and start again.

The machine's server is shared by every test, so a test that takes the database away needs a server of its own:
`initdb` into a fresh directory (as the `postgres` user when the tests run as root, since initdb refuses root),
trust authentication, listening on 127.0.0.1 on a free port with its socket in that directory. The fixture
`postgres_cluster` gives one, started; the test may `kill()` it as a crash would (the postmaster gets SIGKILL and
its children exit on their own) and `start()` it again, when PostgreSQL recovers from its WAL.

Binaries are found on PATH, through `pg_config --bindir`, under /usr/lib/postgresql/*/bin, or in
`$IZLEK_TEST_POSTGRES_BINDIR`; without them the fixture fails, saying how to provide them (it never skips).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from izlek_common.nats_server import find_free_port
from izlek_common.testing.fixtures import PostgresDatabase

__all__ = ["BINDIR_ENV_VAR", "PostgresCluster", "PostgresClusterUnavailable", "postgres_cluster"]

BINDIR_ENV_VAR = "IZLEK_TEST_POSTGRES_BINDIR"
SERVER_USER = "postgres"
"""The OS user that runs the server when the tests run as root, and the superuser role of every cluster."""
HOST = "127.0.0.1"
_TOOLS = ("initdb", "pg_ctl", "postgres")
# The server's own settings: fsync off only saves time (a killed process loses nothing the OS has), and a commit
# still waits for its WAL to reach the OS, so a SIGKILL never takes away an acknowledged commit.
_SERVER_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
}


class PostgresClusterUnavailable(RuntimeError):
    """This machine cannot run a PostgreSQL cluster of the test's own."""


def find_bindir(environ: dict[str, str] | None = None) -> Path:
    """The directory holding initdb, pg_ctl and postgres; raises `PostgresClusterUnavailable` saying how to get
    them when none is found."""
    environ = dict(os.environ) if environ is None else environ
    candidates: list[Path] = []
    if configured := environ.get(BINDIR_ENV_VAR):
        candidates.append(Path(configured))
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).resolve().parent)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=False)
        if done.returncode == 0 and done.stdout.strip():
            candidates.append(Path(done.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_of, reverse=True)
    for directory in candidates:
        if all(os.access(directory / tool, os.X_OK) for tool in _TOOLS):
            return directory
    raise PostgresClusterUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) to run a cluster of the test's own: install "
        "the server (Debian: apt-get install postgresql), put its bin directory on PATH, or set "
        f"{BINDIR_ENV_VAR}=/usr/lib/postgresql/<version>/bin"
    )


def _version_of(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())


class PostgresCluster:
    """A cluster in `directory` (data, socket and log), listening on 127.0.0.1:`port` with trust auth.

    `admin_url` names its `postgres` database as the superuser `postgres`; `database()` creates a database on it.
    """

    def __init__(self, directory: Path, port: int, bindir: Path, run_as: str | None) -> None:
        self.directory = directory
        self.port = port
        self.bindir = bindir
        self.run_as = run_as
        self.data_dir = directory / "data"
        self.log_file = directory / "postgres.log"

    @classmethod
    def create(cls) -> PostgresCluster:
        """initdb a new cluster in a new directory under the system's temporary directory (not started)."""
        bindir = find_bindir()
        run_as = _server_user()
        directory = Path(tempfile.mkdtemp(prefix="izlek-pg-"))
        if run_as is not None:
            account = pwd.getpwnam(run_as)
            os.chown(directory, account.pw_uid, account.pw_gid)
        cluster = cls(directory, find_free_port(), bindir, run_as)
        try:
            cluster._initdb()
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    @property
    def admin_url(self) -> str:
        """A libpq URL of the cluster's `postgres` database, as a superuser (usable with `throwaway_database`)."""
        return f"postgresql://{SERVER_USER}@{HOST}:{self.port}/postgres"

    def database(self, name: str | None = None) -> PostgresDatabase:
        """Create a database (a new `izlek_test_<hex>` unless named) and return how to reach it. It goes away
        with the cluster."""
        database = PostgresDatabase(host=HOST, port=self.port, user=SERVER_USER, password=None,
                                    dbname=name or f"izlek_test_{secrets.token_hex(6)}")
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.dbname)))
        return database

    # --- the server's life ---------------------------------------------------------------------------------

    @property
    def postmaster_pid(self) -> int | None:
        """The pid in `postmaster.pid` if that process lives, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    @property
    def is_running(self) -> bool:
        return self.postmaster_pid is not None

    def start(self, timeout: float = 60) -> None:
        """Start the server and return once it accepts connections. After `kill()` the server's orphaned
        children are waited for (killed if they linger), and PostgreSQL replays its WAL before it accepts."""
        if self.is_running:
            return
        self._wait_for_orphans()
        # A killed postmaster's pid stays in the lock files, and while the dead process is not yet reaped (a
        # zombie) a new postmaster takes it for a live one; its children are gone (above), so the files are stale.
        for lock_file in (self.data_dir / "postmaster.pid", self.directory / f".s.PGSQL.{self.port}.lock"):
            with contextlib.suppress(FileNotFoundError):
                lock_file.unlink()
        self._run("pg_ctl", "start", "--wait", f"--timeout={int(timeout)}", "--pgdata", str(self.data_dir),
                  "--log", str(self.log_file), "--silent")
        self._wait_until_accepting(timeout)

    def kill(self) -> None:
        """Crash the server: SIGKILL to the postmaster, no shutdown. Its backends see it gone and exit at their
        next wait (a transaction under way is answered or aborted, never half done); `start()` recovers."""
        pid = self.postmaster_pid
        if pid is None:
            raise RuntimeError("the cluster is not running")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut the server down cleanly (fast mode: sessions are ended, nothing waits for clients)."""
        if self.is_running:
            self._run("pg_ctl", "stop", "--wait", "--mode=fast", "--pgdata", str(self.data_dir), "--silent")
        self._wait_for_orphans()

    def destroy(self) -> None:
        """Stop the server, whatever state it is in, and delete the cluster's directory."""
        with contextlib.suppress(Exception):
            if self.is_running:
                self._run("pg_ctl", "stop", "--wait", "--mode=immediate", "--pgdata", str(self.data_dir),
                          "--silent")
        with contextlib.suppress(Exception):
            self._wait_for_orphans(grace=2)
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    # --- helpers -------------------------------------------------------------------------------------------

    def _initdb(self) -> None:
        self._run("initdb", "--pgdata", str(self.data_dir), "--username", SERVER_USER, "--auth", "trust",
                  "--encoding", "UTF8", "--locale", "C", "--no-sync", "--no-instructions")
        settings = {**_SERVER_SETTINGS, "port": str(self.port),
                    "unix_socket_directories": f"'{self.directory}'"}
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# izlek tests\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                              cwd=self.directory, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n"
                               f"{self.log_tail()}")

    def _server_processes(self) -> list[int]:
        """Every process of this cluster: each works in the data directory."""
        data_dir = self.data_dir.resolve()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if Path(os.readlink(entry / "cwd")) == data_dir:
                        found.append(int(entry.name))
        return found

    def _wait_for_orphans(self, grace: float = 10) -> None:
        """Wait for the children of a killed postmaster to exit (they hold its shared memory, and a new
        postmaster refuses to start beside them); SIGKILL those still there after `grace` seconds."""
        deadline = time.monotonic() + grace
        while (left := self._server_processes()) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self._server_processes() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _wait_until_accepting(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.admin_url, connect_timeout=2) as connection:
                    connection.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"PostgreSQL on port {self.port} did not accept connections:\n"
                                       f"{self.log_tail()}") from None
                time.sleep(0.05)


def _server_user() -> str | None:
    """Who runs the server: the `postgres` user when we are root (initdb refuses root), else we ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresClusterUnavailable(
            f"the tests run as root, and initdb refuses root; create the user `{SERVER_USER}` (Debian's postgresql "
            "package does) or run the tests as another user"
        ) from None
    if shutil.which("runuser") is None:
        raise PostgresClusterUnavailable("the tests run as root and need `runuser` (util-linux) to run initdb "
                                         f"as `{SERVER_USER}`")
    return SERVER_USER


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is dead for our purposes.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A started PostgreSQL cluster of this test's own, which it may `kill()`, `stop()` and `start()`; deleted
    after the test."""
    try:
        cluster = PostgresCluster.create()
    except PostgresClusterUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
