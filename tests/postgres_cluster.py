"""A throwaway PostgreSQL server on loopback for the test run, or the one a URL names.

The tests run the PostgreSQL backend against a real server: by default a fresh cluster
(``initdb`` into a temporary directory, ``pg_ctl start`` on a free 127.0.0.1 port with its
unix socket in that directory), or the server ``$PROVENANCE_TEST_POSTGRES_URL`` points at.
PostgreSQL refuses to run as root, so under root the server binaries run as the ``postgres``
system user (Debian's package creates it) through ``runuser``. Each test gets its own schema.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg

URL_ENV = "PROVENANCE_TEST_POSTGRES_URL"
OPT_OUT_ENV = "PROVENANCE_TEST_NO_POSTGRES"
BINDIR_ENV = "PROVENANCE_TEST_POSTGRES_BINDIR"  # where a non-Debian install keeps initdb
_SEARCH_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/bin")


class ClusterUnavailableError(RuntimeError):
    """No PostgreSQL server could be started; the message says how to get one."""


def find_bindir() -> Path:
    """The newest directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    if os.environ.get(BINDIR_ENV):
        candidates = [Path(os.environ[BINDIR_ENV])]
        patterns: tuple[str, ...] = ()
    else:
        on_path = shutil.which("initdb")
        candidates = [Path(on_path).parent] if on_path else []
        patterns = _SEARCH_DIRS
    for pattern in patterns:
        root = Path("/")
        found = sorted(root.glob(pattern.lstrip("/")), key=_version_key, reverse=True)
        candidates.extend(found)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise ClusterUnavailableError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in "
        f"{', '.join(map(str, candidates)) or 'PATH'} or /usr/lib/postgresql/<version>/bin; "
        "run `make setup` (scripts/system-deps.sh installs Debian's postgresql), "
        f"or set {URL_ENV} to a server, or set {OPT_OUT_ENV}=1 to skip the PostgreSQL tests"
    )


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ThrowawayCluster:
    """A cluster in a temporary directory, on a free loopback port, removed by :meth:`stop`."""

    def __init__(self) -> None:
        self._base: Path | None = None
        self._pg_ctl: list[str] = []

    def start(self) -> str:
        """Create and start the cluster; returns its superuser URL.

        Raises:
            ClusterUnavailableError: no server binaries, or initdb or pg_ctl failed.
        """
        bindir = find_bindir()
        self._base = base = Path(tempfile.mkdtemp(prefix="provenance-pg-"))
        as_user = _run_as_postgres(base) if os.geteuid() == 0 else []
        data, port = base / "data", _free_port()
        _run("initdb", [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"], base)
        self._pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
        # fsync off: the cluster is thrown away, and durability costs seconds per test run.
        options = (f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        _run("pg_ctl start", [*self._pg_ctl, "-l", str(base / "server.log"), "-w", "-t", "60",
                              "-o", options, "start"], base)
        return f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def stop(self) -> None:
        """Stop the server (if it started) and delete the directory."""
        if self._pg_ctl:
            subprocess.run([*self._pg_ctl, "-m", "immediate", "stop"], capture_output=True,
                           check=False)
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)


def _run_as_postgres(base: Path) -> list[str]:
    try:
        user = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ClusterUnavailableError(
            "running as root, and PostgreSQL refuses to run as root, but there is no "
            f"'postgres' user to run it as (install Debian's postgresql, or set {URL_ENV})"
        ) from exc
    os.chown(base, user.pw_uid, user.pw_gid)
    base.chmod(0o700)
    return ["runuser", "-u", "postgres", "--"]


def _run(label: str, command: list[str], base: Path) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log = base / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise ClusterUnavailableError(
            f"{label} failed ({result.returncode}): {result.stderr.strip()} {tail}".strip()
        )


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A new empty schema on ``server_url``; yields a URL whose search_path is that schema."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{separator}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")
