"""The Starlette adapter: the only module that imports starlette (and anyio, its runtime).

Routes translate HTTP to the framework-free services (``soft_binding``, ``uploads``,
``metrics``) and back; nothing here decides anything about provenance.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InputError, ProvenanceError, UnsupportedMediaError
from .config import ServiceConfig
from .soft_binding import SoftBindingService
from .uploads import UploadResult, UploadVerifier

__all__ = ["build_app"]

_logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_PUBLIC = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def build_app(config: ServiceConfig) -> Starlette:
    """The ASGI application for ``config``: resolution API, verifier and page as configured."""
    routes = [
        Route("/healthz", _timed(config, "/healthz", _healthz(config))),
        Route("/metrics", _timed(config, "/metrics", _metrics(config))),
    ]
    if config.soft_binding is not None:
        routes += _resolution_routes(config, config.soft_binding)
    if config.uploads is not None:
        routes += _verifier_routes(config, config.uploads)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if config.on_shutdown is not None:
            config.on_shutdown()

    return Starlette(routes=routes, lifespan=lifespan)


def _timed(config: ServiceConfig, route: str, handler: Handler) -> Handler:
    async def timed(request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except Exception:
            _logger.exception("%s %s failed", request.method, route)
            response = _error(500, "internal error (see the service log)")
        elapsed = time.perf_counter() - started
        config.metrics.inc(
            "provenance_http_requests_total",
            route=route,
            method=request.method,
            status=str(response.status_code),
        )
        config.metrics.observe("provenance_http_request_duration_seconds", elapsed, route=route)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return timed


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status, headers=headers)


def _healthz(config: ServiceConfig) -> Handler:
    async def healthz(request: Request) -> Response:
        body: dict[str, Any] = {"status": "ok", "verifier": config.uploads is not None}
        if config.vendor is not None:
            body["vendor"] = config.vendor
        if config.issuer is not None:
            body["issuer"] = config.issuer
        if config.soft_binding is not None:
            try:
                body["manifests"] = await run_in_threadpool(config.soft_binding.healthy)
            except ProvenanceError as exc:
                return JSONResponse({"status": "error", "error": str(exc)}, status_code=503)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return healthz


def _metrics(config: ServiceConfig) -> Handler:
    async def metrics(request: Request) -> Response:
        return Response(
            config.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return metrics


def _resolution_routes(config: ServiceConfig, service: SoftBindingService) -> list[Route]:
    async def by_binding(request: Request) -> Response:
        try:
            max_results = _int(request.query_params.get("maxResults", "10"), "maxResults")
            if request.method == "POST":
                body = await _json_body(request)
                alg, value = body.get("alg"), body.get("value")
            else:
                alg, value = request.query_params.get("alg"), request.query_params.get("value")
            answer = await run_in_threadpool(
                functools.partial(service.matches, alg=alg, value=value, max_results=max_results)
            )
        except InputError as exc:
            config.metrics.inc("provenance_resolution_queries_total", result="invalid")
            return _error(400, str(exc), _PUBLIC)
        except ProvenanceError as exc:
            _logger.error("byBinding failed: %s", exc)
            return _error(500, "service failure", _PUBLIC)
        result = "match" if answer["matches"] else "no_match"
        config.metrics.inc("provenance_resolution_queries_total", result=result)
        return JSONResponse(answer, headers=_PUBLIC)

    async def manifest(request: Request) -> Response:
        manifest_id = request.path_params["manifestId"]
        try:
            store = await run_in_threadpool(service.manifest, manifest_id)
        except InputError as exc:
            return _error(400, str(exc), _PUBLIC)
        except ProvenanceError as exc:
            _logger.error("manifest %s failed: %s", manifest_id, exc)
            return _error(500, "service failure", _PUBLIC)
        if store is None:
            return _error(404, f"no manifest {manifest_id}", _PUBLIC)
        config.metrics.inc("provenance_manifests_served_total")
        return Response(store, media_type="application/c2pa", headers=_PUBLIC)

    async def algorithms(request: Request) -> Response:
        return JSONResponse(service.supported_algorithms(), headers=_PUBLIC)

    return [
        Route(
            "/matches/byBinding",
            _timed(config, "/matches/byBinding", by_binding),
            methods=["GET", "POST"],
        ),
        Route("/manifests/{manifestId}", _timed(config, "/manifests/{manifestId}", manifest)),
        Route(
            "/services/supportedAlgorithms",
            _timed(config, "/services/supportedAlgorithms", algorithms),
        ),
    ]


def _verifier_routes(config: ServiceConfig, uploads: UploadVerifier) -> list[Route]:
    limiter = anyio.CapacityLimiter(config.workers)
    pages = {name: _static(name) for name in _STATIC}

    async def verify(request: Request) -> Response:
        try:
            data, filename = await _upload(request, config.max_upload_bytes)
        except _TooLargeError:
            return _error(413, f"upload larger than {config.max_upload_bytes} bytes")
        except InputError as exc:
            return _error(400, str(exc))
        thumbnail = request.query_params.get("thumbnail") in ("1", "true")
        work = functools.partial(uploads.verify, data, filename=filename, thumbnail=thumbnail)
        config.metrics.inc("provenance_verifications_started_total")
        try:
            result = await anyio.to_thread.run_sync(work, limiter=limiter)
        except UnsupportedMediaError as exc:
            config.metrics.inc("provenance_verifications_total", verdict="unsupported")
            return _error(415, str(exc))
        except InputError as exc:
            config.metrics.inc("provenance_verifications_total", verdict="bad_input")
            return _error(400, str(exc))
        config.metrics.inc("provenance_verifications_total", verdict=result.report.verdict.value)
        return JSONResponse(
            _verify_body(result, thumbnail),
            headers={"X-Provenance-Verdict": result.report.verdict.value},
        )

    def static(name: str) -> Handler:
        async def serve(request: Request) -> Response:
            headers = {"Cache-Control": "no-cache"}
            if name == "index.html":
                headers["Content-Security-Policy"] = _PAGE_CSP
            return Response(pages[name], media_type=_STATIC[name], headers=headers)

        return serve

    return [
        Route("/verify", _timed(config, "/verify", verify), methods=["POST"]),
        Route("/", _timed(config, "/", static("index.html"))),
        Route("/static/app.js", _timed(config, "/static", static("app.js"))),
        Route("/static/style.css", _timed(config, "/static", static("style.css"))),
    ]


def _verify_body(result: UploadResult, thumbnail: bool) -> dict[str, Any]:
    report = result.report.to_dict()
    if not thumbnail:
        return report
    picture = None
    if result.thumbnail_jpeg is not None:
        picture = "data:image/jpeg;base64," + base64.b64encode(result.thumbnail_jpeg).decode()
    return {"report": report, "thumbnail": picture}


class _TooLargeError(Exception):
    pass


async def _upload(request: Request, limit: int) -> tuple[bytes, str | None]:
    """The uploaded bytes and name: a multipart ``file`` field, or the raw body."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _TooLargeError
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        # The context closes the spooled parts, whatever they were.
        try:
            async with request.form(max_files=1, max_fields=8) as form:
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    raise InputError("multipart upload has no 'file' field")
                data = await upload.read(limit + 1)
                name = upload.filename
        except HTTPException as exc:  # malformed multipart, too many parts
            raise InputError(f"bad multipart upload: {exc.detail}") from exc
    else:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) > limit:
                raise _TooLargeError
        data = bytes(buffer)
        name = request.query_params.get("filename") or request.headers.get("x-filename")
    if len(data) > limit:
        raise _TooLargeError
    return data, name


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise InputError("the query body is not JSON") from exc
    if not isinstance(body, dict):
        raise InputError("the query body must be a JSON object with 'alg' and 'value'")
    return body


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise InputError(f"{name} must be an integer") from exc


def _static(name: str) -> bytes:
    return resources.files("provenance.service").joinpath("static", name).read_bytes()
