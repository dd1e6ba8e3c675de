"""Regenerate the JSON Schemas in this folder from the pydantic models.

Run from the repository root after changing ``provenance/consent.py`` or
``provenance/verify/report.py`` or ``provenance/evidence/model.py``::

    python spec/schemas/export.py

``tests/unit/test_schemas.py`` fails while a committed file differs from a fresh export.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provenance.consent import export_json_schema
from provenance.evidence.model import export_json_schema as export_evidence_schema
from provenance.verify.report import VerificationReport

HERE = Path(__file__).resolve().parent


def _report_schema() -> dict[str, Any]:
    return VerificationReport.model_json_schema(by_alias=True, mode="serialization")


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "license.schema.json": export_json_schema,
    "verify-report.schema.json": _report_schema,
    "evidence.schema.json": export_evidence_schema,
}


def render(name: str) -> str:
    """The exact text a schema file should hold."""
    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Write every schema next to this script, sorted so diffs stay small."""
    for name in SCHEMAS:
        (HERE / name).write_text(render(name), encoding="utf-8")


if __name__ == "__main__":
    main()
