#!/usr/bin/env bash
# System programs the project uses that PyPI cannot provide: the ffmpeg and ffprobe command
# lines (tests re-encode stamped clips the way a platform would, and extract frames, with the
# real ffmpeg rather than our own PyAV code), exiftool (tests read the GB 45438 / XMP labels
# back with it, as a platform would), the PostgreSQL server (the tests start a
# throwaway cluster on loopback to run the PostgreSQL repository backend against; the
# package's own cluster is not used), and Debian's chromium, the real browser the web page
# test drives through Playwright (never `playwright install`: it downloads a browser).
# Installed from Debian's packages when missing.
set -euo pipefail
missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v exiftool >/dev/null 2>&1 || missing+=(libimage-exiftool-perl)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1 \
    || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
