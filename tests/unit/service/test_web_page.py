"""The page at / in a real headless Chromium (Debian's, driven by Playwright): drop a file,
read the verdict. Set PROVENANCE_SCREENSHOT_DIR to keep the screenshots."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from provenance.consent import grant_license
from provenance.media.synthetic import avatar_frame
from provenance.owner import OwnerKey
from provenance.service import (
    RunningServer,
    ServiceConfig,
    ThreadRepositories,
    UploadVerifier,
    build_app,
    start_in_thread,
)
from provenance.stamp import Stamper, stamp_file
from provenance.workspace import Workspace

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs chromium (make setup)")
# The flags the machine needs: no sandbox as root, no GPU, and no background connections,
# which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("page")
    workspace = Workspace.create(base / "studio", vendor="Page Studio")
    license = grant_license(
        owner_key=OwnerKey.generate(), owner_name="Grace", face_id="face-page-42",
        licensee=workspace.settings.vendor, allow=["education", "marketing"],
        deny=["politics"], territories=["EU", "US"],
        not_after=date.today() + timedelta(days=90),
        intended_uses="Product explainer videos for a software company",
    )  # fmt: skip
    source = base / "frame.png"
    Image.fromarray(avatar_frame(360, 640, seed=5)).save(source)
    stamper = Stamper.from_workspace(workspace)
    try:
        stamp_file(stamper, source, base / "signed.jpg", license=license, purpose="education",
                   territory="DE")  # fmt: skip
    finally:
        stamper.close()
    stripped = base / "reupload.jpg"
    Image.open(base / "signed.jpg").save(stripped, quality=85)
    plain = base / "holiday.png"
    Image.fromarray(avatar_frame(360, 640, seed=9)).save(plain)
    return {"workspace": workspace.root, "stripped": stripped, "plain": plain}


@pytest.fixture(scope="module")
def server(files: dict[str, Path]) -> Iterator[RunningServer]:
    workspace = Workspace.open(files["workspace"])
    repositories = ThreadRepositories(workspace.repository)
    uploads = UploadVerifier(trust=workspace.trust_anchors(), resolver=None,
                             repositories=repositories)  # fmt: skip
    running = start_in_thread(build_app(ServiceConfig(uploads=uploads, workers=2)))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def page(server: RunningServer) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.set_default_timeout(120_000)  # a loaded 2-core CI machine is slow, not broken
            yield page
        finally:
            browser.close()


def drop(page: Any, path: Path, mime: str) -> None:
    """A real drop event on the drop zone, carrying the file as the browser would."""
    payload = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([data, name, mime]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            return transfer;
        }""",
        [payload, path.name, mime],
    )
    page.dispatch_event("#upload", "drop", {"dataTransfer": transfer})


def screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("PROVENANCE_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def facts(page: Any) -> dict[str, str]:
    terms = page.locator("#facts dt").all_inner_texts()
    values = page.locator("#facts dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


def test_dropping_a_stripped_upload_shows_the_verdict(
    page: Any, server: RunningServer, files: dict[str, Path], tmp_path: Path
) -> None:
    page.goto(server.url + "/")
    assert page.title().startswith("Verify avatar media")
    assert page.get_by_label("Drop a file here").count() == 1  # the input has a label
    drop(page, files["stripped"], "image/jpeg")
    page.wait_for_selector("#result:not([hidden])", timeout=60_000)
    assert page.inner_text("#verdict") == "Verified: reupload.jpg"
    shown = facts(page)
    assert shown["Synthetic"] == "yes, synthetic media"
    assert shown["Signer"].startswith("Page Studio C2PA Signer")
    assert shown["Trust"].startswith("Trusted")
    assert shown["Face ID"] == "face-page-42"
    assert shown["Consent scope"].startswith("allows education, marketing; denies politics")
    assert shown["Declared use"] == "education in DE"
    assert shown["In scope"] == "yes"
    assert shown["Recovered via watermark"].startswith("yes")
    thumbnail = page.locator("#thumb")
    assert thumbnail.is_visible()
    assert thumbnail.evaluate("img => img.naturalWidth") == 320
    assert page.evaluate("document.activeElement.id") == "verdict"  # focus moved to the answer
    assert "Done: Verified." in page.inner_text("#status")
    shot = screenshot(page, tmp_path, "page-verified.png")
    assert shot.stat().st_size > 10_000


def test_choosing_a_file_with_the_keyboard_shows_no_provenance(
    page: Any, server: RunningServer, files: dict[str, Path], tmp_path: Path
) -> None:
    page.goto(server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"  # first stop: the chooser
    # Enter on a focused file input opens the browser's own dialog; whether headless Chromium
    # raises it in time is the browser's business (it hung once on a loaded CI machine), so
    # the test fills the focused input the way that dialog would.
    page.set_input_files("#file", str(files["plain"]))
    page.wait_for_selector("#result:not([hidden])", timeout=60_000)
    assert page.inner_text("#verdict") == "No provenance found: holiday.png"
    assert facts(page)["Synthetic"] == "not shown to be synthetic"
    screenshot(page, tmp_path, "page-no-provenance.png")
