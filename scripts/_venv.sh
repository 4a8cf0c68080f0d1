# Sourced by scripts/venv-run and scripts/test: create or reuse .venv at the repo root and install
# echo-cxr (editable) with the pinned versions. Re-installs only when the pins change.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${ECHO_EXTRAS:-}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp_src="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt"; echo "extras=$EXTRAS")"
stamp="$(printf '%s' "$stamp_src" | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.echo-stamp-${EXTRAS:-base}"  # one per extras set: alternating commands do not reinstall
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]; then
  echo "[echo-cxr] installing into $VENV (first run takes a few minutes)" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" torch==2.13.0 >&2
  spec="$ROOT"; [ -n "$EXTRAS" ] && spec="$ROOT[$EXTRAS]"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" -e "$spec" >&2
  echo "$stamp" > "$stamp_file"
fi
case ",$EXTRAS," in *,eval,*) "$ROOT/scripts/setup-eval.sh" "$VENV" ;; esac  # WordNet, rouge shadowing
case ",$EXTRAS," in *,apps,*) "$ROOT/scripts/setup-apps.sh" ;; esac  # chromium + driver for the demo test
export PATH="$VENV/bin:$PATH"
