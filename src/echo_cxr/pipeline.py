"""From files to report records: the library function behind ``echo-cxr generate`` (and, later,
batch inference, the demo and the service). Builds decoding settings from a model's defaults plus
overrides, decodes through the one decoder, and shapes the JSON record."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from echo_cxr.decoding import Callbacks, DecodeConfig, DecodeResult, Study, generate
from echo_cxr.errors import EchoError
from echo_cxr.report import parse_sections

DEFAULT_MODEL_NOTICE_RANDOM = (
    "note: this copy of echo-cxr does not ship the trained default model (scripts/reproduce.sh makes it); "
    "using random:tiny (random weights, the report is noise). Pass --model PATH|HUB_ID for real weights."
)
DEFAULT_MODEL_SPEC = "random:tiny"
DEFAULT_MODEL_ENV = "ECHO_CXR_DEFAULT_MODEL"  # a model spec that replaces the shipped default
STAT_KEYS = ("new_tokens", "forward_passes", "tokens_per_forward", "prefill_seconds", "decode_seconds",
             "tokens_per_second", "kv_append_passes", "committed_tokens", "block_tokens_per_forward")


def default_model() -> tuple[str, str]:
    """The model used when none is given, and the notice to show on stderr: ``$ECHO_CXR_DEFAULT_MODEL``
    if set, else the shipped Phantom CXR ECHO block-8 model, else (a copy without it) ``random:tiny``."""
    from echo_cxr.model.builtin import BUILTIN_PREFIX, DEFAULT_BUILTIN, SYNTHETIC_NOTICE, available

    chosen = os.environ.get(DEFAULT_MODEL_ENV)
    if chosen:
        return chosen, f"note: default model {chosen} (from ${DEFAULT_MODEL_ENV})"
    if DEFAULT_BUILTIN in available():
        return BUILTIN_PREFIX + DEFAULT_BUILTIN, SYNTHETIC_NOTICE.format(name=BUILTIN_PREFIX + DEFAULT_BUILTIN)
    return DEFAULT_MODEL_SPEC, DEFAULT_MODEL_NOTICE_RANDOM


def decode_config(bundle, decoder: str = "blockwise", **overrides) -> DecodeConfig:
    """The model's decoding defaults, overridden by every non-None setting given.

    A checkpoint trained for one block length refuses another one for block decoding (its blocks
    would not match training); random presets and the AR decoder take any.
    """
    defaults = bundle.defaults
    settings = {"block_length": defaults.block_length, "steps": defaults.steps,
                "strategy": defaults.strategy, "threshold": defaults.threshold}
    names = {f.name for f in fields(DecodeConfig)}
    settings.update({k: v for k, v in overrides.items() if v is not None and k in names})
    asked = settings["block_length"]
    if defaults.trained and decoder != "ar" and asked != defaults.block_length:
        raise EchoError(f"model {bundle.name} was trained with block length {defaults.block_length}; "
                        f"--block-length {asked} does not match it")
    return DecodeConfig(**settings)


def check_settings(**overrides) -> None:
    """Validate decoding settings before a (possibly slow) model load; the block length may still
    come from the model, so it is only checked against the steps given."""
    names = {f.name for f in fields(DecodeConfig)}
    given = {k: v for k, v in overrides.items() if v is not None and k in names}
    given.setdefault("block_length", max(given.get("steps") or 1, 1))
    DecodeConfig(**given)


def report_record(bundle, study: Study, result: DecodeResult, config: DecodeConfig, decoder: str) -> dict:
    """The JSON object of one report (the CLI's ``--json`` output)."""
    findings, impression = parse_sections(result.text)
    stats = result.stats.as_dict()
    return {
        "report": result.text,
        "findings": findings,
        "impression": impression,
        "language": study.language,
        "model": bundle.name,
        "quantize": bundle.quantize,
        "images": [str(image) for image in study.images if isinstance(image, (str, Path))],
        "token_ids": result.token_ids,
        "finish_reason": result.finish_reason,
        "decoder": decoder,
        "decoding": config.as_dict(),
        "stats": {key: stats[key] for key in STAT_KEYS},
    }


def generate_reports(bundle, studies: Sequence[Study], config: DecodeConfig, decoder: str = "blockwise",
                     callbacks: Callbacks | None = None) -> list[dict]:
    """Decode studies and return one record per study."""
    results = generate(bundle, studies, config, decoder=decoder, callbacks=callbacks)
    return [report_record(bundle, s, r, config, decoder) for s, r in zip(studies, results)]
