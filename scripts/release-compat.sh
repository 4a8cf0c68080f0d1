#!/usr/bin/env bash
# Compatibility check with the ECHO release's toolchain (README "Using echo-cxr checkpoints with the
# release's scripts"): one venv per release transformers version under .venv-compat/ (torch 2.13.0
# CPU, pinned; no torchvision), then the `compat` tests: the release-style client decodes echo-cxr
# checkpoints in each and must match `echo-cxr generate` on 5.x token for token.
# Extra arguments go to pytest. Versions: RELEASE_TRANSFORMERS="4.55.4 4.57.1" (default).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSIONS="${RELEASE_TRANSFORMERS:-4.55.4 4.57.1}"
COMPAT="${ECHO_COMPAT_VENVS:-$ROOT/.venv-compat}"
PY="${PYTHON:-python3}"
# what the client needs beside transformers (transformers picks its own tokenizers / hub versions)
EXTRA=(accelerate==1.15.0 pillow==12.3.0)
for version in $VERSIONS; do
  venv="$COMPAT/tf-$version"
  stamp="$(printf '%s ' "$version" "${EXTRA[@]}" "$(cat "$ROOT/constraints.txt")" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$venv/.echo-compat-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "[release-compat] making $venv (transformers $version)" >&2
    [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" torch==2.13.0 >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" \
      "transformers==$version" "${EXTRA[@]}" >&2
    echo "$stamp" > "$venv/.echo-compat-stamp"
  fi
done
ECHO_EXTRAS=test
source "$ROOT/scripts/_venv.sh"
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false ECHO_COMPAT_VENVS="$COMPAT" ECHO_COMPAT_REQUIRED=1
exec python -m pytest -m compat tests/compat "$@"
