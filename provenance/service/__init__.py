"""``provenance serve``: the vendor's resolution service and the platform's verifier.

A vendor serves the C2PA Soft Binding Resolution API over its manifest repository, so that
a stripped file's watermark leads any platform to the signed manifest. A platform serves
``/verify`` (an upload returns the verify report) and a page at ``/`` where people drop a
file and read the verdict. Both expose ``/healthz`` and Prometheus ``/metrics``. The web
stack (Starlette on uvicorn) stays behind ``_starlette`` and ``_uvicorn``; everything else
here is plain Python. ``spec/resolution.md``.

Example:
    >>> config = ServiceConfig(soft_binding=SoftBindingService(
    ...     ThreadRepositories(workspace.repository)))  # doctest: +SKIP
    >>> server = start_in_thread(build_app(config))  # doctest: +SKIP
    >>> server.url  # doctest: +SKIP
    'http://127.0.0.1:40123'
"""

from ._starlette import build_app
from ._uvicorn import RunningServer, bind, serve_forever, start_in_thread, url_of
from .config import DEFAULT_MAX_UPLOAD_BYTES, ServiceConfig, default_workers
from .metrics import Metrics
from .repositories import ThreadRepositories
from .soft_binding import SoftBindingService
from .uploads import UploadResult, UploadVerifier

__all__ = [
    "DEFAULT_MAX_UPLOAD_BYTES",
    "Metrics",
    "RunningServer",
    "ServiceConfig",
    "SoftBindingService",
    "ThreadRepositories",
    "UploadResult",
    "UploadVerifier",
    "bind",
    "build_app",
    "default_workers",
    "serve_forever",
    "start_in_thread",
    "url_of",
]
