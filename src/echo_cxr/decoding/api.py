"""``generate``: the one decoding entry every caller uses (CLI, batch inference, demo, service,
benchmarks, DCD teacher rollouts). Decoders are looked up by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from echo_cxr.decoding.ar import decode_ar
from echo_cxr.decoding.blockwise import decode_blockwise
from echo_cxr.decoding.config import DecodeConfig
from echo_cxr.decoding.events import Callbacks
from echo_cxr.decoding.reference import decode_reference
from echo_cxr.decoding.results import DecodeResult, cut_generated, decode_text
from echo_cxr.errors import EchoError
from echo_cxr.model.bundle import PREDICTION_NEXT_TOKEN
from echo_cxr.model.inputs import EncodedPrompt, Study, encode_study

DECODERS: dict[str, Callable] = {
    "blockwise": decode_blockwise,
    "reference": decode_reference,
    "ar": decode_ar,
}


def encode(bundle, studies: Sequence[Study]) -> list[EncodedPrompt]:
    return [encode_study(bundle.processor, study) for study in studies]


@torch.inference_mode()
def generate(
    bundle,
    studies: Sequence[Study],
    config: DecodeConfig,
    decoder: str = "blockwise",
    callbacks: Callbacks | None = None,
    timer=None,
) -> list[DecodeResult]:
    """Decode a batch of studies; one ``DecodeResult`` per study, in order.

    ``timer``: an optional ``PhaseTimer`` that collects per-phase seconds (speed profiling).
    """
    if decoder not in DECODERS:
        raise EchoError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
    if decoder != "ar" and bundle.prediction == PREDICTION_NEXT_TOKEN:
        raise EchoError(f"model {bundle.name} is autoregressive (next-token); decode it with the 'ar' decoder")
    if not studies:
        return []
    prompts = encode(bundle, studies)
    seeds = [config.seed if study.seed is None else study.seed for study in studies]
    extra = {} if timer is None else {"timer": timer}
    rows = DECODERS[decoder](bundle, prompts, config, seeds, callbacks, **extra)
    return [_finish(bundle, row, config) for row in rows]


def _finish(bundle, row, config) -> DecodeResult:
    special = bundle.special
    ids, reason = cut_generated(row.raw_ids, special.eos, config.max_new_tokens, config.ignore_eos)
    row.stats.new_tokens = len(ids)
    return DecodeResult(
        token_ids=ids,
        text=decode_text(bundle.tokenizer, ids),
        finish_reason=reason,
        stats=row.stats,
        trajectory=row.trace if config.record_trajectory else None,
        raw_token_ids=row.raw_ids,
    )
