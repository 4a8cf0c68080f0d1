#!/usr/bin/env bash
# Regenerates the Phantom CXR reproduction (docs/results/phantom.md) from nothing, in resumable
# stages: rerun the same command after an interruption and it continues where it stopped.
#   scripts/reproduce.sh                                     # full profile (hours on 2 CPU cores: docs/training.md)
#   scripts/reproduce.sh --profile configs/reproduce/mini.yaml --workdir /tmp/mini --docs /tmp/mini/docs
ECHO_EXTRAS=eval
source "$(dirname "$0")/_venv.sh"
cd "$ROOT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec python -m echo_cxr.reproduce "$@"
