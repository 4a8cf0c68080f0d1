#!/usr/bin/env bash
# CPU decode benchmarks behind docs/benchmarks.md. About 15 minutes on 2 cores; run it with nothing
# else busy. Writes JSON + markdown under ${OUT:-docs/benchmarks}; every table and JSON records the
# CPU model, its flags and any kernel limits (echo_cxr/model/cpu_features.py).
#   bench/cpu.sh                 # everything
#   ONLY=formats bench/cpu.sh    # one part: formats | auto | quality | multistep | batch | overhead
#   AVX2=1 ONLY=formats bench/cpu.sh   # the same on AVX2-only kernels (an AVX-512 / AMX machine imitating
#                                      # an AVX2-only one); outputs get the suffix _avx2
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$ROOT/docs/benchmarks}"
STUDIES="$(mktemp -d)"
mkdir -p "$OUT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
THREADS="${THREADS:-$(nproc)}"
TAG=""
if [ -n "${AVX2:-}" ]; then  # every kernel library torch uses on a CPU, held to AVX2
  export ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2
  TAG="_avx2"
fi
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
# 1. random:0.5b, batch 1, 256 tokens: AR vs fused one-step block 8 in every CPU format (float32, int8, bf16
#    linear layers), each mode given its fastest format in the summary; agreement against the float32 rows
if want formats; then
  bench --model random:0.5b "${SPEED[@]}" --modes ar,one_step,one_step_unfused --quantize none,int8,bf16 \
    --out "$OUT/cpu_0.5b_formats$TAG.json" --markdown "$OUT/cpu_0.5b_formats$TAG.md"
fi
# 1a. the same with --quantize auto: the format it picks on this CPU, and what that format gives
if want auto; then
  bench --model random:0.5b "${SPEED[@]}" --modes ar,one_step --quantize auto \
    --out "$OUT/cpu_0.5b_auto$TAG.json" --markdown "$OUT/cpu_0.5b_auto$TAG.md"
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
    --modes ar,multi_step,one_step --quantize none --out "$OUT/cpu_base8_multistep.json" --markdown "$OUT/cpu_base8_multistep.md"
fi
# 3. batch 8 vs batch 1, one-step, rows finishing at different lengths (eight different studies)
if want batch; then
  bench --model builtin:phantom-echo-blk8 "${IMAGES[@]}" --runs natural --max-new-tokens 256 --repeats 3 \
    --batch-sizes 1,8 --modes ar,one_step --quantize none --out "$OUT/cpu_echo8_batch.json" --markdown "$OUT/cpu_echo8_batch.md"
fi
# 4. decoder overhead at random:tiny (time outside model forwards)
if want overhead; then
  bench --model random:tiny --max-new-tokens 256 --runs fixed --repeats 5 --warmup 2 --batch-sizes 1,8 \
    --modes ar,multi_step,one_step,one_step_unfused --quantize none --out "$OUT/cpu_tiny_overhead.json" \
    --markdown "$OUT/cpu_tiny_overhead.md"
fi
cat "$OUT"/cpu_*"$TAG".md
