#!/usr/bin/env bash
# GPU decode benchmark (issue: speed, target 5): random:7b (Qwen2.5-VL-7B shape) in bf16, AR vs
# ECHO block 4 / block 8 (one step, fused; and multi-step), batch 1 / 8 / 32, fixed 256 new
# tokens. Bounded to about 8 minutes on one H200. Writes JSON and markdown under ${OUT:-bench/out}.
#   bench/gpu.sh                 # on a machine with CUDA and the .venv built (scripts/venv-run)
#   DRY=1 bench/gpu.sh           # the same commands on random:tiny, CPU (checks the script)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$ROOT/bench/out}"
mkdir -p "$OUT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
if [ "${DRY:-0}" = 1 ]; then
  MODEL=random:tiny; DEVICE=cpu; DTYPE=float32; BATCHES=1,2; TOKENS=32; REPEATS=1
else
  MODEL=random:7b; DEVICE=cuda; DTYPE=bfloat16; BATCHES=1,8,32; TOKENS=256; REPEATS=3
  "$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))"
fi
export HF_HUB_OFFLINE=1
for BLOCK in 8 4; do
  timeout 240 "$PY" -m echo_cxr.cli bench decode --model "$MODEL" --device "$DEVICE" --dtype "$DTYPE" \
    --block-length "$BLOCK" --batch-sizes "$BATCHES" --max-new-tokens "$TOKENS" --runs fixed \
    --modes ar,multi_step,one_step,one_step_unfused --repeats "$REPEATS" --warmup 1 \
    --out "$OUT/gpu_block$BLOCK.json" --markdown "$OUT/gpu_block$BLOCK.md"
done
cat "$OUT"/gpu_block*.md
