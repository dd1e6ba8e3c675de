"""The JSON Schemas in spec/schemas are what the models export, and reports conform."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCHEMAS = Path(__file__).resolve().parents[2] / "spec" / "schemas"


def _exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("schema_export", SCHEMAS / "export.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name", ["license.schema.json", "verify-report.schema.json", "evidence.schema.json"]
)
def test_committed_schema_is_fresh(name: str) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")
    fresh: str = _exporter().render(name)
    assert committed == fresh, f"stale {name}: run python spec/schemas/export.py"


def test_report_schema_names_the_documented_fields() -> None:
    schema = json.loads((SCHEMAS / "verify-report.schema.json").read_text())
    expected = {"verdict", "synthetic", "manifest", "watermark", "likeness", "third_party_marks"}
    assert expected <= set(schema["properties"])
    defs = schema["$defs"]
    assert {"present", "validation_state", "failures", "recovered_via_watermark"} <= set(
        defs["ManifestSection"]["properties"]
    )
    assert {"detected", "payload"} <= set(defs["WatermarkSection"]["properties"])
    assert {"scheme", "label", "message", "matches", "bits", "false_alarm_probability"} == set(
        defs["ThirdPartyMarkSection"]["properties"]
    )
    assert {"face_id", "license_id", "in_scope"} <= set(defs["LikenessSection"]["properties"])
