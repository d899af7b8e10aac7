"""Local Mosquitto, PostgreSQL and Redis servers run as plain processes under a state folder.

The local stack (`vigil up`) and the test fixtures use the same classes, so tests run against
exactly the servers a developer runs.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class ServerError(RuntimeError):
    """A server could not be installed, initialised or started; the message says which."""


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there, else a port the kernel hands out."""
    if preferred:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _binary(name: str, *candidates: str) -> str:
    for c in candidates:
        for path in sorted(glob.glob(c), reverse=True):
            if os.access(path, os.X_OK):
                return path
    found = shutil.which(name)
    if not found:
        raise ServerError(f"{name} is not installed: run scripts/bootstrap.sh (make up does)")
    return found


@dataclass
class Server:
    """One server process: started detached, its pid in a file, its output in a log."""

    name: str
    home: Path
    port: int
    user: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pidfile(self) -> Path:
        """Where the pid of the running process is kept."""
        return self.home / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        """The server's stdout and stderr."""
        return self.home / f"{self.name}.log"

    def argv(self) -> list[str]:
        """The command line; subclasses say."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Write config and initialise data (idempotent)."""

    def start(self, timeout: float = 30.0) -> None:
        """Start detached and wait until the port accepts connections."""
        if self.running():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        self.prepare()
        # Drop privileges in the child itself, so the pid we keep is the server's own.
        as_user = {"user": self.user, "group": self.user, "extra_groups": []} \
            if self.user and os.geteuid() == 0 else {}
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, cwd=self.home, **as_user,  # type: ignore[call-overload]
            )
        self.pidfile.write_text(str(self.proc.pid))
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited at start; see {self.logfile}")
            if time.monotonic() > deadline:
                raise ServerError(f"{self.name} not listening on {self.port} after {timeout}s")
            time.sleep(0.05)

    def pid(self) -> int | None:
        """The pid from the pid file, if that process is alive."""
        try:
            pid = int(self.pidfile.read_text())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        if self.proc is not None and self.proc.poll() is not None:
            return None
        return pid

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.pid() is not None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        """Signal the process (SIGTERM: clean shutdown, SIGKILL: crash) and wait for it."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None:
                if self.proc.poll() is not None:
                    break
            else:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()
        while port_open(self.port) and time.monotonic() < deadline + 5:
            time.sleep(0.05)


class Mosquitto(Server):
    """Mosquitto with persistence and limits sized so that no accepted message is dropped."""

    def __init__(self, home: Path, port: int, autosave_s: int = 5) -> None:
        super().__init__("mosquitto", home, port)
        self.autosave_s = autosave_s

    def prepare(self) -> None:
        """Write mosquitto.conf."""
        data = self.home / "data"
        data.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            # Started as root, mosquitto drops to its own user: it must own its persistence
            # folder, or queued messages of persistent sessions do not survive a restart.
            with contextlib.suppress(KeyError):
                pw = pwd.getpwnam("mosquitto")
                os.chown(data, pw.pw_uid, pw.pw_gid)
        (self.home / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.home / 'data'}/\n"
            f"autosave_interval {self.autosave_s}\n"
            "max_inflight_messages 1000\n"
            "max_queued_messages 1000000\n"
            "max_queued_bytes 0\n"
            "max_packet_size 16777216\n"
            "persistent_client_expiration 7d\n"
            "set_tcp_nodelay true\n"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )

    def argv(self) -> list[str]:
        """mosquitto -c conf."""
        exe = _binary("mosquitto", "/usr/sbin/mosquitto")
        return [exe, "-c", str(self.home / "mosquitto.conf")]


class Redis(Server):
    """Redis with append-only persistence (``appendfsync`` configurable)."""

    def __init__(self, home: Path, port: int, appendfsync: str = "everysec") -> None:
        super().__init__("redis", home, port)
        self.appendfsync = appendfsync

    def argv(self) -> list[str]:
        """redis-server with its options on the command line."""
        exe = _binary("redis-server", "/usr/bin/redis-server")
        return [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.home),
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
                "--daemonize", "no", "--protected-mode", "yes"]


class Postgres(Server):
    """A PostgreSQL cluster of its own (runs as the ``postgres`` user when we are root)."""

    def __init__(self, home: Path, port: int, user: str = "vigil", password: str = "vigil",  # noqa: S107 - local dev cluster on loopback
                 database: str = "vigil", durable: bool = True) -> None:
        run_as = "postgres" if os.geteuid() == 0 else None
        super().__init__("postgres", home, port, user=run_as)
        self.db_user, self.password, self.database, self.durable = user, password, database, durable

    @property
    def bindir(self) -> Path:
        """The PostgreSQL server binaries (newest installed major)."""
        return Path(_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")).parent

    @property
    def url(self) -> str:
        """Connection URL of the main database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """Connection URL of any database on this server."""
        return f"postgresql://{self.db_user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _chown(self, path: Path) -> None:
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def prepare(self) -> None:
        """initdb on first use, then (re)write the settings that depend on the port."""
        data = self.home / "data"
        self._chown(self.home)
        if not (data / "PG_VERSION").exists():
            pwfile = self.home / "pwfile"
            pwfile.write_text(self.password + "\n")
            self._chown(pwfile)
            cmd = [str(self.bindir / "initdb"), "-D", str(data), "-U", self.db_user,
                   "--pwfile", str(pwfile), "--auth-local=trust", "--auth-host=scram-sha-256",
                   "-E", "UTF8", "--locale=C.UTF-8"]
            as_user = {"user": self.user, "group": self.user, "extra_groups": []} \
                if self.user and os.geteuid() == 0 else {}
            done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.home,
                                  **as_user)  # type: ignore[call-overload]
            pwfile.unlink()
            if done.returncode:
                raise ServerError(f"initdb failed: {done.stderr.strip()[-400:]}")
        durability = "" if self.durable else "fsync = off\nsynchronous_commit = off\n" \
            "full_page_writes = off\n"
        (data / "postgresql.auto.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.home}'\nmax_connections = 200\n"
            f"shared_buffers = 256MB\n{durability}"
        )
        self._chown(data / "postgresql.auto.conf")

    def argv(self) -> list[str]:
        """The postgres server in the foreground."""
        return [str(self.bindir / "postgres"), "-D", str(self.home / "data")]

    def start(self, timeout: float = 60.0) -> None:
        """Start, wait for the port, and create the application database."""
        super().start(timeout)
        self.wait_accepting(timeout)
        self.psql(f"SELECT 'CREATE DATABASE {self.database}' WHERE NOT EXISTS "
                  f"(SELECT FROM pg_database WHERE datname = '{self.database}')\\gexec")

    def wait_accepting(self, timeout: float = 60.0) -> None:
        """Wait until the server accepts queries (the port opens before recovery ends)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.psql("SELECT 1")
                return
            except ServerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql over the private unix socket."""
        cmd = [str(self.bindir / "psql") if (self.bindir / "psql").exists() else "psql",
               "-h", str(self.home), "-p", str(self.port), "-U", self.db_user, "-d", database,
               "-v", "ON_ERROR_STOP=1", "-qAt"]
        done = subprocess.run(cmd, input=sql, capture_output=True, text=True, check=False)
        if done.returncode:
            raise ServerError(f"psql: {done.stderr.strip()[-400:]}")
        return done.stdout

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """SIGTERM is PostgreSQL's smart shutdown; use SIGINT for fast, SIGKILL for a crash."""
        super().stop(sig, timeout)
