"""The one place that imports ``imwatermark`` (invisible-watermark), always lazily.

Importing it imports torch (~1.3 s, watermark notes section 2.1), which the CLI must not pay
at start-up, so every user calls :func:`import_imwatermark` inside the function that runs
the engine. Internal: not part of the public API.
"""

from __future__ import annotations

from types import ModuleType

from ..errors import WatermarkError

__all__ = ["import_imwatermark"]


def import_imwatermark(name: str) -> ModuleType:
    """Import imwatermark on first use; it pulls in torch, which costs ~1.3 s.

    Args:
        name: who asks, for the error message.

    Raises:
        WatermarkError: the package (or torch under it) is missing or broken.
    """
    try:
        import imwatermark
    except ImportError as exc:
        raise WatermarkError(f"{name}: invisible-watermark is not usable: {exc}") from exc
    module: ModuleType = imwatermark
    return module
