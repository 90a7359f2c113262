"""The private PostgreSQL cluster used when no DATABASE_URL is given.

It lives entirely under one directory (`$GALLERY_GQL_HOME`), listens on 127.0.0.1 only,
on a free port, and uses the machine's PostgreSQL server binaries. PostgreSQL refuses to
run as root, so under root the server runs as the unprivileged `postgres` system user.
When that user cannot reach the home (a checkout in root's private home, a `mktemp -d`
directory), the cluster lives under `/var/lib/gallery-gql/<checkout>-<hash>/` instead:
the same home always maps to the same place, and no permission of the user's own
directories is changed. Streaming replicas of it are in `db/embedded_replicas.py`.
"""

from __future__ import annotations

import glob
import hashlib
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
RELOCATION_ROOT = Path("/var/lib/gallery-gql")
"""Where a cluster goes when the service user cannot reach its home (root only)."""


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


def client_command(bindir: Path, program: str, port: int, *args: str) -> list[str]:
    """A PostgreSQL client program run against the cluster on `port`, as its superuser."""
    return [str(bindir / program), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, *args]


def _can(account: pwd.struct_passwd, test: str, path: Path) -> bool:
    """`test <test> <path>` as `account`: what the server's user may do there."""
    probe = subprocess.run(
        ["/usr/bin/test", test, str(path)],
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=[],
        check=False,
    )
    return probe.returncode == 0


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
    """A PostgreSQL cluster: pgdata/, postgres.log and cluster.json under its directory,
    which is `home` unless the service user cannot reach it (see `directory`)."""

    def __init__(self, home: Path, *, relocation_root: Path = RELOCATION_ROOT) -> None:
        self.home = home.resolve()
        self.relocation_root = relocation_root
        self._directory: Path | None = None

    @property
    def directory(self) -> Path:
        """Where the cluster's files are: `home`, or (as root, when the service user cannot
        reach `home`) a directory under `relocation_root` named after `home`."""
        if self._directory is None:
            self._directory = self._locate()
        return self._directory

    @property
    def data_dir(self) -> Path:
        return self.directory / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.directory / "postgres.log"

    @property
    def state_file(self) -> Path:
        return self.directory / "cluster.json"

    @property
    def relocated(self) -> bool:
        return self.directory != self.home

    def location_note(self) -> str | None:
        """One line saying where the cluster went, when it is not under `home`."""
        if not self.relocated:
            return None
        return (
            f"the '{SERVICE_USER}' user cannot reach {self.home}: the embedded cluster "
            f"lives in {self.directory} (set GALLERY_GQL_HOME to choose another place)"
        )

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
            "HOME": str(self.directory),
        }
        result = subprocess.run(
            args,
            capture_output=True,
            text=True,
            check=False,
            env=env,
            cwd=self.directory,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if check and result.returncode != 0:
            raise EmbeddedError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-800:]}")
        return result

    def _locate(self) -> Path:
        account = self._service_account()
        if account is None or self._reachable(self.home, account):
            return self.home
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return self.relocation_root / f"{self.home.parent.name or 'root'}-{digest}"

    @staticmethod
    def _reachable(path: Path, account: pwd.struct_passwd) -> bool:
        """Whether the service user can traverse to `path` (or, while it does not exist
        yet, to the nearest existing directory above it)."""
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        return _can(account, "-x", existing)

    def _prepare_directory(self) -> None:
        directory = self.directory
        if self.relocated:
            # Ours alone, so world-traversable like /var/lib itself; pgdata stays 0700.
            self.relocation_root.mkdir(mode=0o755, parents=True, exist_ok=True)
        directory.mkdir(parents=True, exist_ok=True)
        account = self._service_account()
        if account is None:
            return
        os.chown(directory, account.pw_uid, account.pw_gid)
        if not _can(account, "-w", directory):
            raise EmbeddedError(
                f"the '{SERVICE_USER}' user cannot reach {directory}: a parent directory is "
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
                f"no embedded cluster under {self.directory}; run `gallery-gql db start`"
            )
        return f"{driver}://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, *, durable: bool = True, settings: dict[str, str] | None = None) -> str:
        """Initialize if needed, start if stopped, create the database; return its URL.

        `durable=False` turns off fsync for throwaway test clusters.
        """
        bindir = find_bindir()
        self._prepare_directory()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initialize(bindir)
        if self.status().running:
            return self.url()
        port = self._read_port()
        if port is None or not _port_free(port):
            port = _free_port()
        options = self._server_options(port, durable) | (settings or {})
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
        self._after_start(bindir, port)
        return self.url()

    def _initialize(self, bindir: Path) -> None:
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

    def _server_options(self, port: int, durable: bool) -> dict[str, str]:
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
            # Replicas (db/embedded_replicas.py) hold replication slots: bound what a
            # stopped one can make the primary keep.
            "max_slot_wal_keep_size": "1GB",
        }
        if not durable:
            options |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        return options

    def _after_start(self, bindir: Path, port: int) -> None:
        self._ensure_database(bindir, port)

    def psql(self, sql: str, *, database: str = DATABASE) -> str:
        """One statement through psql on the running cluster; its unaligned output."""
        port = self._read_port()
        if port is None:
            raise EmbeddedError(f"no embedded cluster under {self.directory}")
        args = ["-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql]
        result = self._run(client_command(find_bindir(), "psql", port, *args))
        return result.stdout.strip()

    def _ensure_database(self, bindir: Path, port: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            exists = self._run(
                client_command(
                    bindir,
                    "psql",
                    port,
                    *("-d", "postgres", "-tAc"),
                    f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
                ),
                check=False,
            )
            if exists.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise EmbeddedError(f"cluster did not accept connections: {exists.stderr}")
            time.sleep(0.2)
        if exists.stdout.strip() != "1":
            self._run(client_command(bindir, "createdb", port, DATABASE))

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server if it runs (pg_ctl's `fast`, or `immediate`: as if it crashed);
        True when it was running."""
        if not self.status().running:
            return False
        self._run(
            [
                str(find_bindir() / "pg_ctl"),
                "stop",
                "-D",
                str(self.data_dir),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
            ]
        )
        return True

    def destroy(self) -> None:
        """Stop and delete the cluster and its replicas (test clusters)."""
        replicas = self.directory / "replicas"
        for path in sorted(replicas.iterdir()) if replicas.is_dir() else []:
            EmbeddedCluster(path).stop()
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
        shutil.rmtree(self.home, ignore_errors=True)
