"""Command-line options shared by the commands that decode (generate, infer, ...): one definition,
one help text. Use as ``block_length: options.BlockLength = None``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

Model = Annotated[Optional[str], typer.Option(help="Checkpoint folder, hub id, builtin:NAME or random:tiny|0.5b|7b "
                                                     "(default: the shipped model).")]
BlockLength = Annotated[Optional[int], typer.Option(help="Block length L (default: the model's).")]
Steps = Annotated[Optional[int], typer.Option(help="Denoising steps per block S, 1..L (default: the model's).")]
Strategy = Annotated[Optional[str], typer.Option(help="Remasking strategy (default: the model's).")]
Threshold = Annotated[Optional[float], typer.Option(help="Confidence threshold tau.")]
EntropyBound = Annotated[Optional[float], typer.Option(help="Entropy bound of entropy_bounded.")]
Temperature = Annotated[float, typer.Option(help="0 = greedy.")]
TopK = Annotated[int, typer.Option(help="Top-k filter (0 = off).")]
TopP = Annotated[float, typer.Option(help="Top-p (nucleus) filter.")]
Seed = Annotated[int, typer.Option(help="Sampling seed; also the weights of random:PRESET models.")]
MaxNewTokens = Annotated[int, typer.Option(help="New-token budget.")]
NoFused = Annotated[bool, typer.Option("--no-fused", help="Append each block's K/V in a separate forward.")]
Decoder = Annotated[str, typer.Option(help="blockwise | reference (slow oracle) | ar.")]
IgnoreEos = Annotated[bool, typer.Option("--ignore-eos", help="Do not stop at EOS (fixed-length speed runs).")]
Dtype = Annotated[str, typer.Option(help="float32 | bfloat16 | float16.")]
Attention = Annotated[str, typer.Option(help="sdpa | eager | flash_attention_2 (vision tower only).")]
MaxPixels = Annotated[Optional[int], typer.Option(help="Image budget per view (width*height) after resizing.")]
Quantize = Annotated[str, typer.Option(help="auto | none | int8 | bf16 (CPU: reduced-precision linear layers in "
                                                 "the language model; auto picks by CPU, none = strict "
                                                 "float32; GPU: ignored by auto).")]


def decoding_settings(block_length, steps, strategy, threshold, entropy_bound, temperature, top_k, top_p,
                      max_new_tokens, no_fused, ignore_eos) -> dict:
    """The decoding options above as ``DecodeConfig`` overrides (None: the model's default)."""
    return dict(block_length=block_length, steps=steps, strategy=strategy, threshold=threshold,
                entropy_bound=entropy_bound, temperature=temperature, top_k=top_k, top_p=top_p,
                max_new_tokens=max_new_tokens, fused=False if no_fused else None, ignore_eos=ignore_eos)
