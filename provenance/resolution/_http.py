"""The httpx adapter: the only module that imports httpx.

One GET at a time, translated into a plain :class:`HttpResponse` or a
:class:`TransportError`; retries and their policy live in ``remote``. Redirects are not
followed, so an answer can never lead the client to a host outside the allow-list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from ..errors import ResolutionError

__all__ = ["HttpClient", "HttpResponse", "TransportError"]


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    content_type: str


class TransportError(ResolutionError):
    """No HTTP answer at all: refused, reset, DNS failure or timeout (worth a retry)."""


class HttpClient:
    """A pooled HTTP client; thread-safe, as httpx.Client is."""

    def __init__(self, *, timeout_s: float, connect_timeout_s: float, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            follow_redirects=False,
            headers={"Accept": "application/json, application/c2pa"},
            trust_env=False,
        )

    def get(self, url: str, params: Mapping[str, str] | None = None) -> HttpResponse:
        """GET ``url``; the body is read up to ``max_bytes``.

        Raises:
            TransportError: no answer (connection refused, timeout, ...).
            ResolutionError: the body is larger than ``max_bytes``.
        """
        try:
            with self._client.stream("GET", url, params=params) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise ResolutionError(
                            f"{url}: answer larger than {self.max_bytes} bytes, refused"
                        )
                return HttpResponse(
                    response.status_code, bytes(body), response.headers.get("content-type", "")
                )
        except httpx.TimeoutException as exc:
            raise TransportError(f"{url}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransportError(f"{url}: unreachable ({_reason(exc)})") from exc
        except httpx.InvalidURL as exc:
            raise ResolutionError(f"{url}: invalid URL ({exc})") from exc

    def close(self) -> None:
        self._client.close()


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
