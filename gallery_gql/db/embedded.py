"""The private PostgreSQL cluster used when no DATABASE_URL is given.

It lives entirely under one directory (`$GALLERY_GQL_HOME`), listens on 127.0.0.1 only,
on a free port, and uses the machine's PostgreSQL server binaries. PostgreSQL refuses to
run as root, so under root the server runs as the unprivileged `postgres` system user.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "gallery"
DATABASE = "gallery"
SERVICE_USER = "postgres"


class EmbeddedError(RuntimeError):
    """The embedded cluster cannot be created, started or reached."""


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    initialized: bool
    port: int | None
    data_dir: Path


def find_bindir() -> Path:
    """The directory holding `initdb`, `pg_ctl` and `postgres` (newest version wins)."""
    pg_config = shutil.which("pg_config")
    candidates: list[Path] = []
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(Path(p) for p in versions)
    for bindir in candidates:
        if (bindir / "postgres").exists() and (bindir / "initdb").exists():
            return bindir
    raise EmbeddedError(
        "PostgreSQL server binaries not found; run `make install postgres-binaries` "
        "(Debian: apt-get install postgresql) or set DATABASE_URL"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As PostgreSQL binds: a port in TIME_WAIT after a stop is still ours to reuse,
        # so a restarted cluster keeps its URL.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class EmbeddedCluster:
    """A PostgreSQL cluster under `home`: pgdata/, postgres.log and cluster.json."""

    def __init__(self, home: Path) -> None:
        self.home = home.resolve()
        self.data_dir = self.home / "pgdata"
        self.log_file = self.home / "postgres.log"
        self.state_file = self.home / "cluster.json"

    # -- running commands as the right user -------------------------------------------------
    def _service_account(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SERVICE_USER)
        except KeyError as exc:
            raise EmbeddedError(
                f"running as root needs the unprivileged '{SERVICE_USER}' system user "
                "(created by Debian's postgresql package)"
            ) from exc

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        account = self._service_account()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C.UTF-8",
            "HOME": str(self.home),
        }
        result = subprocess.run(
            args,
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=self.home,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if check and result.returncode != 0:
            raise EmbeddedError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-800:]}")
        return result

    def _prepare_home(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        account = self._service_account()
        if account is None:
            return
        os.chown(self.home, account.pw_uid, account.pw_gid)
        probe = subprocess.run(
            ["/usr/bin/test", "-w", str(self.home)],
            user=account.pw_uid,
            group=account.pw_gid,
            extra_groups=[],
            check=False,
        )
        if probe.returncode != 0:
            raise EmbeddedError(
                f"the '{SERVICE_USER}' user cannot reach {self.home}: a parent directory is "
                "not traversable; set GALLERY_GQL_HOME to a directory under /srv or /tmp"
            )

    # -- state -----------------------------------------------------------------------------
    def _read_port(self) -> int | None:
        if not self.state_file.exists():
            return None
        return int(json.loads(self.state_file.read_text())["port"])

    def _write_port(self, port: int) -> None:
        self.state_file.write_text(json.dumps({"port": port}))

    def status(self) -> ClusterStatus:
        initialized = (self.data_dir / "PG_VERSION").exists()
        running = False
        if initialized:
            result = self._run(
                [str(find_bindir() / "pg_ctl"), "status", "-D", str(self.data_dir)], check=False
            )
            running = result.returncode == 0
        return ClusterStatus(running, initialized, self._read_port(), self.data_dir)

    def url(self, driver: str = "postgresql+asyncpg") -> str:
        port = self._read_port()
        if port is None:
            raise EmbeddedError(
                f"no embedded cluster under {self.home}; run `gallery-gql db start`"
            )
        return f"{driver}://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, durable: bool = True, settings: dict[str, str] | None = None) -> str:
        """Initialize if needed, start if stopped, create the database; return its URL.

        `durable=False` turns off fsync for throwaway test clusters.
        """
        bindir = find_bindir()
        self._prepare_home()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ]
            )
        if self.status().running:
            return self.url()
        port = self._read_port()
        if port is None or not _port_free(port):
            port = _free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": "''",
            "max_connections": "200",
            "shared_buffers": "256MB",
            "logging_collector": "off",
            # Detect deadlocks well before lock_timeout (1 s) so they surface as 40P01,
            # which the write path retries, rather than as a lock timeout, which it does not.
            "deadlock_timeout": "200ms",
        }
        if not durable:
            options |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        options |= settings or {}
        opts = " ".join(f"-c {key}={value}" for key, value in options.items())
        self._run(
            [
                str(bindir / "pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                opts,
            ]
        )
        self._write_port(port)
        self._ensure_database(bindir, port)
        return self.url()

    def _ensure_database(self, bindir: Path, port: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            exists = self._run(
                [
                    str(bindir / "psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    SUPERUSER,
                    "-d",
                    "postgres",
                    "-tAc",
                    f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
                ],
                check=False,
            )
            if exists.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise EmbeddedError(f"cluster did not accept connections: {exists.stderr}")
            time.sleep(0.2)
        if exists.stdout.strip() != "1":
            self._run(
                [
                    str(bindir / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    SUPERUSER,
                    DATABASE,
                ]
            )

    def stop(self) -> bool:
        """Stop the server if it runs; True when it was running."""
        if not self.status().running:
            return False
        self._run(
            [
                str(find_bindir() / "pg_ctl"),
                "stop",
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
            ]
        )
        return True

    def destroy(self) -> None:
        """Stop and delete the cluster (test clusters)."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
