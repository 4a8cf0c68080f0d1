#!/usr/bin/env bash
# System step of the `apps` extra, run by scripts/_venv.sh when that extra is asked for (and usable
# by hand: `scripts/setup-apps.sh`). Idempotent and quick when done.
#
# The demo's end-to-end test (tests/apps/test_demo_browser.py) drives a real headless browser:
# Debian's `chromium` through Debian's `chromium-driver` (same version, so Selenium needs no
# download). `fonts-wqy-zenhei` gives the browser CJK glyphs for Chinese reports in screenshots.
# Where apt cannot be used (not root, no apt), this prints why and returns success: the browser
# test then skips with that reason and everything else still runs.
set -euo pipefail
PACKAGES=(chromium chromium-driver fonts-wqy-zenhei)

have_all() {
  command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 \
    && dpkg-query -W -f='${Status}' fonts-wqy-zenhei 2>/dev/null | grep -q "install ok installed"
}

have_all && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "[echo-cxr] note: cannot install ${PACKAGES[*]} (needs apt-get as root); the demo's browser test will skip" >&2
  exit 0
fi
echo "[echo-cxr] installing ${PACKAGES[*]} from Debian (demo browser test)" >&2
export DEBIAN_FRONTEND=noninteractive
opts=(-y -q --no-install-recommends)
apt-get install "${opts[@]}" "${PACKAGES[@]}" >&2 \
  || { apt-get update -q >&2 && apt-get install "${opts[@]}" "${PACKAGES[@]}" >&2; } \
  || echo "[echo-cxr] note: apt could not install ${PACKAGES[*]}; the demo's browser test will skip" >&2
