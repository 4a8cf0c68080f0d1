#!/usr/bin/env bash
# CPU decode benchmarks behind docs/benchmarks.md (issue: speed, targets 1-4). About 12 minutes on
# 2 cores; run it with nothing else busy. Writes JSON + markdown under ${OUT:-docs/benchmarks}.
#   bench/cpu.sh                 # everything
#   ONLY=int8 bench/cpu.sh       # one part: fp32 | int8 | bf16 | quality | multistep | batch | overhead
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$ROOT/docs/benchmarks}"
STUDIES="$(mktemp -d)"
mkdir -p "$OUT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
THREADS="${THREADS:-$(nproc)}"
bench() { "$PY" -m echo_cxr.cli bench decode --threads "$THREADS" "$@"; }
want() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }
# Phantom CXR test images for the trained models (natural-length reports)
IMAGES=()
if want multistep || want batch; then
  "$PY" -m echo_cxr.cli phantom --out "$STUDIES" --n 8 --seed 4242 --split test --lateral-prob 0 \
    --overwrite > /dev/null
  for f in "$STUDIES"/test/images/*frontal*; do IMAGES+=(--image "$f"); done
fi
SPEED=(--max-new-tokens 256 --runs fixed --repeats 3 --warmup 1)
# 1. random:0.5b, batch 1, 256 tokens: AR vs fused one-step block 8, fp32 then int8 / bf16 linear layers
if want fp32; then
  bench --model random:0.5b "${SPEED[@]}" --modes ar,one_step,one_step_unfused \
    --out "$OUT/cpu_0.5b_fp32.json" --markdown "$OUT/cpu_0.5b_fp32.md"
fi
if want int8; then
  bench --model random:0.5b "${SPEED[@]}" --modes ar,one_step,one_step_unfused --quantize int8 \
    --reference "$OUT/cpu_0.5b_fp32.json" --out "$OUT/cpu_0.5b_int8.json" --markdown "$OUT/cpu_0.5b_int8.md"
fi
if want bf16; then
  bench --model random:0.5b "${SPEED[@]}" --modes ar,one_step,one_step_unfused --quantize bf16 \
    --reference "$OUT/cpu_0.5b_fp32.json" --out "$OUT/cpu_0.5b_bf16.json" --markdown "$OUT/cpu_0.5b_bf16.md"
fi
# 1b. quality of int8 / bf16 on the trained default (random weights give near-ties: agreement there means little):
# Phantom CXR test studies (EN + ZH) decoded in float32 and int8, scored, and compared token by token
if want quality; then
  "$PY" -m echo_cxr.cli phantom --out "$STUDIES/q" --n 150 --seed 4243 --lang both --split test --lateral-prob 0 \
    --overwrite > /dev/null
  for Q in none int8 bf16; do
    "$PY" -m echo_cxr.cli infer --data "$STUDIES/q/test/test.json" --model builtin:phantom-echo-blk8 --quantize "$Q" \
      --out "$OUT/quality_$Q.jsonl" --batch-size 32 --no-progress
    "$PY" -m echo_cxr.cli score --results "$OUT/quality_$Q.jsonl" --out "$OUT/quality_$Q.scores.json" \
      --metrics rouge,phantom
  done
  "$PY" -c "
import json
from echo_cxr.bench.decode import token_agreement
rows = {q: {r['sample_id']: r['token_ids'] for r in map(json.loads, open(f'$OUT/quality_{q}.jsonl'))} for q in ('none', 'int8', 'bf16')}
ids = sorted(rows['none'])
for q in ('int8', 'bf16'):
    print(f'{q} vs float32 token agreement: {token_agreement([rows[q][i] for i in ids], [rows[\"none\"][i] for i in ids]):.3f} '
          f'({sum(rows[q][i] == rows[\"none\"][i] for i in ids)}/{len(ids)} reports identical)')
" | tee "$OUT/quality.txt"
fi
# 2. multi-step block 8 (tau 0.85) on the trained ECHO-Base block 8 vs AR decoding of the same weights
if want multistep; then
  bench --model builtin:phantom-base-blk8 "${IMAGES[@]:0:2}" --runs natural --max-new-tokens 256 --repeats 3 \
    --modes ar,multi_step,one_step --out "$OUT/cpu_base8_multistep.json" --markdown "$OUT/cpu_base8_multistep.md"
fi
# 3. batch 8 vs batch 1, one-step, rows finishing at different lengths (eight different studies)
if want batch; then
  bench --model builtin:phantom-echo-blk8 "${IMAGES[@]}" --runs natural --max-new-tokens 256 --repeats 3 \
    --batch-sizes 1,8 --modes ar,one_step --out "$OUT/cpu_echo8_batch.json" --markdown "$OUT/cpu_echo8_batch.md"
fi
# 4. decoder overhead at random:tiny (time outside model forwards)
if want overhead; then
  bench --model random:tiny --max-new-tokens 256 --runs fixed --repeats 5 --warmup 2 --batch-sizes 1,8 \
    --modes ar,multi_step,one_step,one_step_unfused --out "$OUT/cpu_tiny_overhead.json" \
    --markdown "$OUT/cpu_tiny_overhead.md"
fi
cat "$OUT"/cpu_*.md
