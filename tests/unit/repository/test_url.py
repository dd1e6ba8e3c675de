"""Repository URLs: the accepted forms, and a password that never shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.repository import RepositoryUrl, configured_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repo.sqlite", "/base/repo.sqlite"),
        ("/srv/repo.sqlite", "/srv/repo.sqlite"),
        ("sqlite:///data/repo.sqlite", "/base/data/repo.sqlite"),
        ("sqlite:////srv/repo.sqlite", "/srv/repo.sqlite"),
        ("name:with-colon.sqlite", "/base/name:with-colon.sqlite"),
    ],
)
def test_sqlite_forms(text: str, expected: str) -> None:
    url = RepositoryUrl.parse(text, base=Path("/base"))
    assert url.backend == "sqlite"
    assert url.path == Path(expected)


def test_path_objects_and_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert RepositoryUrl.parse(Path("r.sqlite")).path == tmp_path / "r.sqlite"
    assert RepositoryUrl.parse("r.sqlite") == RepositoryUrl.parse(Path("r.sqlite"))


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgres_url_goes_to_the_driver_unchanged(scheme: str) -> None:
    text = f"{scheme}://stamper@db.internal:6543/provenance?sslmode=require"
    url = RepositoryUrl.parse(text)
    assert url.backend == "postgresql"
    assert url.dsn == text
    assert url.redacted() == text
    assert not url.has_password


@pytest.mark.parametrize(
    ("text", "shown", "secrets"),
    [
        ("postgresql://u:hunter2@h/db", "postgresql://u:***@h/db", {"hunter2"}),
        ("postgresql://u:p%40ss@h:5/db", "postgresql://u:***@h:5/db", {"p%40ss", "p@ss"}),
        ("postgresql://u@h/db?sslmode=require&password=zz",
         "postgresql://u@h/db?sslmode=require&password=***", {"zz"}),
    ],
)
def test_password_is_redacted_everywhere(text: str, shown: str, secrets: set[str]) -> None:
    url = RepositoryUrl.parse(text)
    assert url.has_password
    assert set(url.secrets()) == secrets
    assert str(url) == url.redacted() == shown
    assert repr(url) == f"RepositoryUrl({shown!r})"
    leaked = f"FATAL: password {sorted(secrets)[0]} rejected\n  for user u"
    assert url.scrub(leaked) == "FATAL: password *** rejected for user u"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("mysql://u:pw@h/db", "unknown scheme 'mysql'"),
        ("sqlite://relative.sqlite", "SQLite URLs look like"),
        ("sqlite:///", "SQLite URLs look like"),
        ("postgresql://h:notaport/db", "malformed"),
    ],
)
def test_bad_urls(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as caught:
        RepositoryUrl.parse(text)
    assert "pw@" not in str(caught.value)


def test_configured_url_prefers_the_flag() -> None:
    env = {"PROVENANCE_REPOSITORY": "postgresql://h/env"}
    assert configured_url("flag.sqlite", environ=env) == "flag.sqlite"
    assert configured_url(None, environ=env) == "postgresql://h/env"
    assert configured_url(None, environ={}) is None
