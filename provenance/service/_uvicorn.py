"""The uvicorn adapter: the only module that imports uvicorn.

The listening socket is bound here, before the server starts, so a caller asking for port
0 learns the real port, and "ready" is announced only once connections are accepted.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn

__all__ = ["RunningServer", "bind", "serve_forever", "start_in_thread", "url_of"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port).

    Raises:
        OSError: the address is in use or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._on_ready()


def _config(app: Any, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )


def serve_forever(
    app: Any, sock: socket.socket, *, on_ready: Callable[[], None], log_level: str = "warning"
) -> None:
    """Serve ``app`` on ``sock`` until SIGINT/SIGTERM."""
    _Server(_config(app, log_level), on_ready).run(sockets=[sock])


class RunningServer:
    """A server on a background thread (tests, benchmarks, embedding)."""

    def __init__(self, app: Any, sock: socket.socket, log_level: str) -> None:
        self.url = url_of(sock)
        self._ready = threading.Event()
        self._server = _Server(_config(app, log_level), self._ready.set)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the server did not start within 30 s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def start_in_thread(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> RunningServer:
    """Start ``app`` on a background thread; returns once it accepts connections."""
    return RunningServer(app, bind(host, port), log_level)
