#!/usr/bin/env bash
# From a fresh clone, the data path end to end (docs/data.md):
#   a look-alike MIMIC-CXR folder -> data convert -> data normalize (a loopback OpenAI-compatible
#   server on 127.0.0.1) -> train ar (a tiny model from scratch) -> generate with it.
# Usage: scripts/data-demo.sh [OUT]   (default runs/data-demo; replaced on every run)
# Creates/reuses .venv with the `data` extra unless ECHO_DEMO_NO_VENV=1 (then echo-cxr and python
# must already be on PATH, as in the test that runs this script).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/runs/data-demo}" && cd "${1:-$ROOT/runs/data-demo}" && pwd)"
if [ -z "${ECHO_DEMO_NO_VENV:-}" ]; then
  ECHO_EXTRAS=data source "$ROOT/scripts/_venv.sh"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$ROOT"
find "$OUT" -mindepth 1 -delete
step() { printf '\n== %s\n' "$*" >&2; }

step "1/5 look-alike MIMIC-CXR-JPG + reports folder"
echo-cxr data lookalike --dataset mimic-cxr --out "$OUT/mimic-cxr" > "$OUT/lookalike.json"
head -n 1 "$OUT/lookalike.json"

step "2/5 convert (--validate: the look-alike has a corrupt JPEG that training could not read)"
echo-cxr data convert --dataset mimic-cxr --root "$OUT/mimic-cxr" --out "$OUT/converted" --validate --quiet

step "3/5 loopback OpenAI-compatible server (127.0.0.1)"
python -m echo_cxr.data.normalize.loopback --port-file "$OUT/llm.port" > "$OUT/llm.log" 2>&1 &
LLM_PID=$!
trap 'kill "$LLM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$OUT/llm.port" ] && break; sleep 0.1; done
ENDPOINT="http://127.0.0.1:$(cat "$OUT/llm.port")/v1"
echo "$ENDPOINT"

step "4/5 normalize train and val"
for split in train val; do
  echo-cxr data normalize --data "$OUT/converted/$split.json" --out "$OUT/normalized/$split.json" \
    --backend openai --model loopback --endpoint "$ENDPOINT" --quiet
done

step "5/5 train ar on the normalised data, then generate"
echo-cxr train ar --config configs/real/demo_ar.yaml "train_data=$OUT/normalized/train.json" \
  "val_data=$OUT/normalized/val.json" "output_dir=$OUT/ar" --quiet
IMAGE="$(python -c 'import json, sys, pathlib; p = pathlib.Path(sys.argv[1]); e = json.loads(p.read_text())[0]; print(p.parent / e["images"][0])' "$OUT/normalized/val.json")"
echo-cxr generate "$IMAGE" --model "$OUT/ar/model" --decoder ar --max-new-tokens 24 --json > "$OUT/generated.json"
python -c 'import json, sys; r = json.load(open(sys.argv[1])); print("generated:", r["report"][:120])' "$OUT/generated.json"
echo "demo done: $OUT" >&2
