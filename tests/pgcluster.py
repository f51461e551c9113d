"""A throwaway PostgreSQL cluster for the tests and the benchmark: initdb in a temporary
folder, started on a free port of 127.0.0.1, removed on stop.

initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` system user
(runuser); as anyone else they run as that user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterError(RuntimeError):
    pass


def _bindir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if versions:
        return Path(versions[-1]).parent
    raise ClusterError("initdb not found: install the distribution's postgresql package (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """`with Cluster() as c: c.url` — a superuser URL with trust authentication on 127.0.0.1."""

    def __init__(self, *, fsync: bool = True, settings: dict[str, str] | None = None) -> None:
        self.fsync = fsync
        self.settings = settings or {}
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="pgtest-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise ClusterError(f"{args[0]} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")

    def start(self) -> Cluster:
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-locale", "--no-sync")
        self.start_server()
        return self

    def start_server(self) -> None:
        """Start the server on the cluster (again, after stop_server)."""
        options = {
            "port": str(self.port), "listen_addresses": "127.0.0.1", "unix_socket_directories": str(self.root),
            "fsync": "on" if self.fsync else "off", "full_page_writes": "on" if self.fsync else "off",
            "synchronous_commit": "on", "max_connections": "200", "shared_buffers": "128MB",
            **self.settings,
        }
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def stop_server(self) -> None:
        """Stop the server as a crash would (the cluster stays, to be started again)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
