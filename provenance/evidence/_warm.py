"""Imported once by the fork server that starts report workers (``collect.py``).

Every worker verifies stills, which loads imwatermark and torch (seconds, ``watermark.md``);
loading them here, before the server forks, lets each worker start with them in memory
instead of importing them again.
"""

from __future__ import annotations

import contextlib

from ..errors import WatermarkError
from ..watermark._imwatermark import import_imwatermark
from . import collect as collect

# A broken install is reported by the first verification that needs the engine, not here.
with contextlib.suppress(WatermarkError):
    import_imwatermark("report workers")
