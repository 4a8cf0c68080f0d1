"""``echo-cxr generate IMAGE [IMAGE ...]``: one study (its views) -> one report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer


def _stream_printer(bundle, limit: int):
    """on_block callback printing each block's new text as soon as it is committed."""
    from echo_cxr.decoding.results import decode_text

    ids: list[int] = []
    shown = [""]
    eos = set(bundle.special.eos)

    def on_block(event) -> None:
        for token in event.token_ids:
            if token in eos or len(ids) >= limit:
                break
            ids.append(token)
        text = decode_text(bundle.tokenizer, ids)
        if text.startswith(shown[0]):
            sys.stdout.write(text[len(shown[0]):])
            sys.stdout.flush()
            shown[0] = text

    return on_block


def generate_command(
    images: list[Path] = typer.Argument(..., help="Views of one study (PNG, JPEG or DICOM)."),
    model: Optional[str] = typer.Option(None, help="Checkpoint folder, hub id, or random:tiny|0.5b|7b."),
    lang: str = typer.Option("en", help="Report language: en or zh."),
    prompt: Optional[str] = typer.Option(None, help="Instruction (default: the release prompt for --lang)."),
    block_length: Optional[int] = typer.Option(None, help="Block length L (default: the model's)."),
    steps: Optional[int] = typer.Option(None, help="Denoising steps per block S, 1..L (default: the model's)."),
    strategy: Optional[str] = typer.Option(None, help="Remasking strategy (default: the model's)."),
    threshold: Optional[float] = typer.Option(None, help="Confidence threshold tau."),
    entropy_bound: Optional[float] = typer.Option(None, help="Entropy bound of entropy_bounded."),
    temperature: float = typer.Option(0.0, help="0 = greedy."),
    top_k: int = typer.Option(0, help="Top-k filter (0 = off)."),
    top_p: float = typer.Option(1.0, help="Top-p (nucleus) filter."),
    seed: int = typer.Option(0, help="Sampling seed; also the weights of random:PRESET models."),
    max_new_tokens: int = typer.Option(512, help="New-token budget."),
    no_fused: bool = typer.Option(False, "--no-fused", help="Append each block's K/V in a separate forward."),
    decoder: str = typer.Option("blockwise", help="blockwise | reference (slow oracle) | ar."),
    ignore_eos: bool = typer.Option(False, "--ignore-eos", help="Do not stop at EOS (fixed-length speed runs)."),
    dtype: str = typer.Option("float32", help="float32 | bfloat16 | float16."),
    device: str = typer.Option("cpu", help="cpu | cuda | cuda:N | auto."),
    attention: str = typer.Option("sdpa", help="sdpa | eager | flash_attention_2 (vision tower only)."),
    max_pixels: Optional[int] = typer.Option(None, help="Image budget per view (width*height)."),
    stream: bool = typer.Option(False, "--stream", help="Print each block as it is committed."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Write a report for one study."""
    from echo_cxr.decoding import Callbacks, Study
    from echo_cxr.model import load
    from echo_cxr.decoding.api import DECODERS
    from echo_cxr.errors import EchoError
    from echo_cxr.imaging import load_image
    from echo_cxr.pipeline import check_settings, decode_config, default_model, generate_reports

    settings = dict(
        block_length=block_length, steps=steps, strategy=strategy, threshold=threshold,
        entropy_bound=entropy_bound, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
        max_new_tokens=max_new_tokens, fused=False if no_fused else None, ignore_eos=ignore_eos,
    )
    check_settings(**settings)
    if decoder not in DECODERS:
        raise EchoError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
    for path in images:  # fail on unreadable images before loading a model
        load_image(path)
    study = Study(images=[str(p) for p in images], language=lang, prompt=prompt)
    if model is None:
        model, notice = default_model()
        print(notice, file=sys.stderr)
    bundle = load(model, device=device, dtype=dtype, seed=seed, attention=attention, max_pixels=max_pixels)
    config = decode_config(bundle, decoder, **settings)
    callbacks = Callbacks(on_block=_stream_printer(bundle, config.max_new_tokens)) if stream and not as_json else None
    record = generate_reports(bundle, [study], config, decoder=decoder, callbacks=callbacks)[0]
    if as_json:
        print(json.dumps(record, ensure_ascii=False))
    elif stream:
        print()
    else:
        print(record["report"])


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
