"""Where a manifest repository lives: a SQLite file or a PostgreSQL database, as one URL.

Accepted forms (``spec/repository.md``):

* a plain path, ``repository.sqlite`` or ``/srv/repo.sqlite``: a SQLite file;
* ``sqlite:///relative/path`` and ``sqlite:////absolute/path``: the same, written as the
  database URLs of SQLAlchemy and dj-database-url (three slashes, then the path);
* ``postgresql://user@host:port/db`` (or ``postgres://``): a PostgreSQL database, in libpq's
  URI syntax, so ``?sslmode=require`` and the other libpq parameters work unchanged.

A password in a URL is a secret: :class:`RepositoryUrl` prints, logs and reports itself with
the password replaced by ``***``. Prefer ``PGPASSWORD`` or ``~/.pgpass`` over a password in
the URL; libpq reads both.

Example:
    >>> RepositoryUrl.parse("postgresql://stamper:hunter2@db:5432/provenance").redacted()
    'postgresql://stamper:***@db:5432/provenance'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import InputError

__all__ = ["ENV_VAR", "RepositoryUrl", "configured_url"]

ENV_VAR = "PROVENANCE_REPOSITORY"

Backend = Literal["sqlite", "postgresql"]

_POSTGRES_SCHEMES = ("postgresql", "postgres")
_QUERY_PASSWORD = re.compile(r"(?i)(^|&)(password=)[^&]*")
_FORMS = "a file path, sqlite:///relative/path, sqlite:////absolute/path or postgresql://..."


class RepositoryUrl:
    """A parsed repository location that never shows its password."""

    __slots__ = ("_target", "backend")

    def __init__(self, backend: Backend, target: str) -> None:
        self.backend: Backend = backend
        self._target = target

    @classmethod
    def parse(cls, text: str | Path, *, base: Path | None = None) -> RepositoryUrl:
        """Parse a path or URL; relative SQLite paths are taken from ``base`` (default: cwd).

        Raises:
            InputError: an empty string, an unknown scheme or a malformed URL.
        """
        if isinstance(text, Path):
            return cls._sqlite(text, base)
        if not text.strip():
            raise InputError(f"repository URL is empty (give {_FORMS})")
        scheme, sep, rest = text.partition(":")
        if not sep or len(scheme) < 2 or not scheme.replace("+", "").isalpha():
            return cls._sqlite(Path(text), base)  # no scheme (a drive letter is not one)
        if scheme.lower() == "sqlite":
            if not rest.startswith("///") or len(rest) == 3:
                raise InputError(f"repository URL '{text}': SQLite URLs look like {_FORMS}")
            return cls._sqlite(Path(rest[3:]), base)
        if scheme.lower() in _POSTGRES_SCHEMES:
            url = cls("postgresql", text)
            url._check_postgres()
            return url
        if rest.startswith("//"):
            raise InputError(
                f"repository URL '{cls('postgresql', text).redacted()}': unknown scheme "
                f"'{scheme}' (give {_FORMS})"
            )
        return cls._sqlite(Path(text), base)

    @classmethod
    def _sqlite(cls, path: Path, base: Path | None) -> RepositoryUrl:
        path = path.expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        return cls("sqlite", str(path))

    def _check_postgres(self) -> None:
        try:
            parts = urlsplit(self._target)
            parts.port  # noqa: B018 -- urlsplit checks the port only when it is read
        except ValueError as exc:
            raise InputError(f"repository URL '{self.redacted()}': malformed ({exc})") from exc
        if parts.fragment:
            raise InputError(f"repository URL '{self.redacted()}': a '#' has no meaning here")

    @property
    def path(self) -> Path:
        """The SQLite file (only for the ``sqlite`` backend)."""
        if self.backend != "sqlite":
            raise ValueError(f"{self.redacted()} is not a SQLite repository")
        return Path(self._target)

    @property
    def dsn(self) -> str:
        """The full libpq URL, password included: hand it to the driver, nowhere else."""
        if self.backend != "postgresql":
            raise ValueError(f"{self.redacted()} is not a PostgreSQL repository")
        return self._target

    def secrets(self) -> tuple[str, ...]:
        """The password as written and as decoded, for scrubbing driver messages."""
        if self.backend != "postgresql":
            return ()
        found = []
        parts = urlsplit(self._target)
        if parts.password:
            found.append(parts.password)
        for match in re.finditer(r"(?i)(?:^|&)password=([^&]*)", parts.query):
            found.append(match.group(1))
        return tuple({form for secret in found for form in (secret, unquote(secret)) if form})

    @property
    def has_password(self) -> bool:
        """Whether the URL itself carries a password."""
        return bool(self.secrets())

    def redacted(self) -> str:
        """The URL with any password replaced by ``***``: safe to print and log."""
        if self.backend == "sqlite":
            return self._target
        parts = urlsplit(self._target)
        netloc = parts.netloc
        if parts.password is not None:
            userinfo, _, hostinfo = netloc.rpartition("@")
            netloc = f"{userinfo.partition(':')[0]}:***@{hostinfo}"
        query = _QUERY_PASSWORD.sub(r"\1\2***", parts.query)
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def scrub(self, text: str) -> str:
        """``text`` (a driver's error message) on one line with every password form masked."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, "***")
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.redacted()

    def __repr__(self) -> str:
        return f"RepositoryUrl({self.redacted()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RepositoryUrl):
            return NotImplemented
        return (self.backend, self._target) == (other.backend, other._target)

    def __hash__(self) -> int:
        return hash((self.backend, self._target))


def configured_url(
    explicit: str | None = None, *, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The repository a command was pointed at: ``explicit``, else ``$PROVENANCE_REPOSITORY``."""
    return explicit or environ.get(ENV_VAR) or None
