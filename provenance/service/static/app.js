// Drop or choose a file; POST it to /verify; show the verdict. Text only (no innerHTML),
// so nothing in a report can inject markup.
"use strict";

(function () {
  const form = document.getElementById("upload");
  const input = document.getElementById("file");
  const status = document.getElementById("status");
  const result = document.getElementById("result");
  const verdict = document.getElementById("verdict");
  const facts = document.getElementById("facts");
  const problemsBox = document.getElementById("problems-box");
  const problems = document.getElementById("problems");
  const checks = document.getElementById("checks");
  const thumbFigure = document.getElementById("thumb-figure");
  const thumb = document.getElementById("thumb");
  const thumbCaption = document.getElementById("thumb-caption");

  const VERDICTS = {
    verified: "Verified",
    failed: "Failed verification",
    no_provenance: "No provenance found",
  };

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // A "no" is marked as bad only where it is (out of scope); elsewhere it is plain text.
  function yesNo(value, yes, no, noIsBad) {
    const span = document.createElement("span");
    if (value === true) { span.className = "yes"; span.textContent = yes; }
    else if (value === false) { span.className = noIsBad ? "no" : ""; span.textContent = no; }
    else { span.textContent = "unknown"; }
    return span;
  }

  function fact(term, value) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    facts.append(dt, dd);
  }

  function scopeText(scope) {
    if (!scope) return "none";
    const parts = [];
    if (scope.allow && scope.allow.length) parts.push("allows " + scope.allow.join(", "));
    if (scope.deny && scope.deny.length) parts.push("denies " + scope.deny.join(", "));
    if (scope.territories && scope.territories.length) parts.push("in " + scope.territories.join(", "));
    if (scope.not_before && scope.not_after) parts.push(scope.not_before + " to " + scope.not_after);
    return parts.join("; ");
  }

  function trustText(manifest) {
    if (!manifest.present) return "no manifest";
    const state = manifest.validation_state || "unknown";
    if (state === "Trusted") return "Trusted (signer chains to a configured trust anchor)";
    if (state === "Valid") return "Valid but untrusted signer";
    return state;
  }

  function render(report, thumbnail) {
    const m = report.manifest, w = report.watermark, l = report.likeness;
    verdict.className = report.verdict;
    verdict.textContent = (VERDICTS[report.verdict] || report.verdict) + ": " + report.file;
    clear(facts); clear(problems); clear(checks);
    fact("Synthetic", yesNo(report.synthetic, "yes, synthetic media", "not shown to be synthetic"));
    fact("Signer", m.signer ? m.signer + (m.signer_issuer ? " (issued by " + m.signer_issuer + ")" : "") : "none");
    fact("Trust", trustText(m));
    fact("Face ID", l.face_id || "none");
    if (l.licensee) fact("Licensee", l.licensee);
    fact("Consent scope", scopeText(l.scope));
    if (l.declared_purpose) fact("Declared use", l.declared_purpose + " in " + (l.declared_territory || "?"));
    fact("In scope", l.in_scope === null || l.in_scope === undefined
      ? "not applicable" : yesNo(l.in_scope, "yes", "NO, outside the consent scope", true));
    fact("Recovered via watermark", yesNo(m.recovered_via_watermark, "yes, manifest was stripped and recovered", "no"));
    if (m.resolved_from) fact("Resolved from", m.resolved_from);
    if (m.resolution_error) fact("Could not resolve", m.resolution_error);
    fact("Watermark", w.detected ? w.payload + " (" + w.engine + ")" : "none found");
    if (report.video) fact("Video", report.video.width + "x" + report.video.height + ", " +
      (report.video.duration_s || 0).toFixed(2) + " s");
    problemsBox.hidden = report.problems.length === 0;
    for (const text of report.problems) {
      const li = document.createElement("li");
      li.textContent = text;
      problems.appendChild(li);
    }
    for (const check of report.checks) {
      const row = document.createElement("tr");
      for (const text of [check.name, check.status, check.detail]) {
        const td = document.createElement("td");
        td.textContent = text;
        row.appendChild(td);
      }
      checks.appendChild(row);
    }
    thumbFigure.hidden = !thumbnail;
    if (thumbnail) {
      thumb.src = thumbnail;
      thumb.alt = (report.video ? "First frame of " : "Thumbnail of ") + report.file;
      thumbCaption.textContent = report.video ? "First frame of the video" : "The image, reduced";
    }
    result.hidden = false;
    verdict.focus();
  }

  function showError(message) {
    verdict.className = "error";
    verdict.textContent = "Could not verify: " + message;
    clear(facts); clear(problems); clear(checks);
    problemsBox.hidden = true;
    thumbFigure.hidden = true;
    result.hidden = false;
    verdict.focus();
  }

  async function verify(file) {
    status.textContent = "Verifying " + file.name + "…";
    result.hidden = true;
    try {
      const response = await fetch("/verify?thumbnail=1&filename=" + encodeURIComponent(file.name), {
        method: "POST",
        body: file,
        headers: { "Content-Type": "application/octet-stream" },
      });
      const body = await response.json();
      if (!response.ok) { showError(body.error || ("HTTP " + response.status)); status.textContent = ""; return; }
      render(body.report, body.thumbnail);
      status.textContent = "Done: " + (VERDICTS[body.report.verdict] || body.report.verdict) + ".";
    } catch (err) {
      showError("the verifier did not answer (" + err.message + ")");
      status.textContent = "";
    }
  }

  input.addEventListener("change", function () {
    if (input.files.length) verify(input.files[0]);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.files.length) verify(input.files[0]);
  });
  for (const name of ["dragenter", "dragover"]) {
    form.addEventListener(name, function (event) {
      event.preventDefault();
      form.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    form.addEventListener(name, function (event) {
      event.preventDefault();
      form.classList.remove("dragging");
    });
  }
  form.addEventListener("drop", function (event) {
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) verify(files[0]);
  });
})();
