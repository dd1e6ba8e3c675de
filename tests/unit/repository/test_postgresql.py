"""PostgreSQL backend specifics: login failures, dropped connections, read-only roles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from provenance.errors import RepositoryError
from provenance.repository import ManifestRecord, open_repository
from provenance.repository.postgresql import PostgreSQLRepository


def _with_user(url: str, user: str, password: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    login = f"{user}:{password}" if password else user
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def test_failed_login_names_the_url_without_password(postgres_url: str) -> None:
    url = _with_user(postgres_url, "no_such_role", "s3cret-pw")
    with pytest.raises(RepositoryError, match="cannot open manifest repository") as caught:
        open_repository(url)
    message = str(caught.value)
    assert "no_such_role:***@" in message and "s3cret-pw" not in message
    assert caught.value.__cause__ is None  # libpq's own text never rides along unscrubbed


def test_dropped_connection_fails_one_call_then_reconnects(postgres_url: str) -> None:
    with PostgreSQLRepository(postgres_url) as repo:
        cid = repo.reserve(2)
        (pid,) = repo._query("SELECT pg_backend_pid()", ())[0]
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(RepositoryError, match="repository read failed"):
            repo.count()
        assert repo.count() == 0
        repo.release(cid)


def test_read_only_role_can_resolve_but_not_stamp(postgres_url: str) -> None:
    with open_repository(postgres_url) as repo:
        cid = repo.reserve(4)
        repo.complete(ManifestRecord(cid, b"m", "image/png", "face-r", "lic", "alg",
                                     "00" * 32, datetime.now(UTC)))
    role = f"reader_{uuid.uuid4().hex[:8]}"
    schema = psycopg.conninfo.conninfo_to_dict(postgres_url)["options"]
    schema_name = str(schema).rpartition("=")[2]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema_name} TO {role}")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema_name} TO {role}")
    try:
        with open_repository(_with_user(postgres_url, role)) as reader:
            record = reader.get(cid)
            assert record is not None and record.face_id == "face-r"
            with pytest.raises(RepositoryError, match="permission denied"):
                reader.reserve(4)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
