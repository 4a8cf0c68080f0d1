"""RAD vs full duplication training cost (``echo-cxr bench rad``), METHOD.md section 4.

Same small model, one synthetic sample with ``context`` prompt tokens (CXR studies carry ~2,900
vision tokens) and ``response`` report tokens. Reports tokens per training row, forward FLOPs by
formula (dense attention 4*T^2*d per layer, as SDPA computes with a mask; linear layers 2*T*params;
attended query-key pairs as a block-sparse kernel would compute), and the measured time of a
training step (forward + backward), median of repeats.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch

from echo_cxr.errors import EchoError
from echo_cxr.model.inputs import EncodedPrompt
from echo_cxr.training.config import ScratchModel
from echo_cxr.training.examples import Example
from echo_cxr.training.objectives import ObjectiveSettings, compute_loss, get_objective
from echo_cxr.training.packing import pack

TRAINING_FLOPS_FACTOR = 3  # forward + backward ~ 3x forward


@dataclass(frozen=True)
class RadBenchConfig:
    context_tokens: int = 2900
    response_tokens: int = 150
    block_length: int = 8
    repeats: int = 3
    warmup: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.context_tokens < 1 or self.response_tokens < 1:
            raise EchoError("context and response token counts must be positive")
        if self.repeats < 1 or self.warmup < 0 or self.block_length < 1:
            raise EchoError("repeats and block length must be >= 1, warm-up >= 0")


def synthetic_example(bench: RadBenchConfig, vocab: int, eos_id: int) -> Example:
    """A text-only sample of the requested sizes (random ids above the special tokens)."""
    generator = torch.Generator().manual_seed(bench.seed)
    first_plain_id = 16
    prompt = torch.randint(first_plain_id, vocab, (bench.context_tokens,), generator=generator)
    response = torch.randint(first_plain_id, vocab, (bench.response_tokens - 1,), generator=generator)
    positions = torch.arange(bench.context_tokens)[None].expand(3, -1)
    return Example("bench", EncodedPrompt(prompt, None, None), positions, 0,
                   torch.cat([response, torch.tensor([eos_id])]))


def forward_flops(tokens: int, model) -> dict:
    text = model.config.text_config
    layers, width = text.num_hidden_layers, text.hidden_size
    params = sum(p.numel() for n, p in model.named_parameters() if "language_model.layers" in n)
    attention = 4 * tokens * tokens * width * layers
    linear = 2 * tokens * params
    return {"attention": attention, "linear": linear, "total": attention + linear}


def _step_seconds(model, segment, objective, settings, bench) -> list[float]:
    batch = pack([segment])
    times = []
    for index in range(bench.warmup + bench.repeats):
        model.zero_grad(set_to_none=True)
        start = time.perf_counter()
        loss, _ = compute_loss(objective, model, batch, settings)
        loss.backward()
        if index >= bench.warmup:
            times.append(time.perf_counter() - start)
    return times


def run_rad_bench(bench: RadBenchConfig, shape: ScratchModel | None = None) -> dict:
    from echo_cxr.model.random_init import new_model
    from echo_cxr.model.tiny import train_tokenizer

    shape = shape or ScratchModel()
    tokenizer = train_tokenizer(vocab_size=shape.vocab_size)
    text, vision = shape.shapes(vocab_size=shape.vocab_size)
    bundle = new_model("bench", tokenizer, text, vision, shape.max_pixels, seed=bench.seed)
    model = bundle.model.train()
    settings = ObjectiveSettings(block_length=bench.block_length, mask_id=bundle.special.mask,
                                 eos_id=bundle.special.eos[0], image_token_id=model.config.image_token_id)
    example = synthetic_example(bench, shape.vocab_size, bundle.special.eos[0])
    rows = {}
    for name in ("rad", "full_dup"):
        objective = get_objective(name)
        segment = objective.build(example, settings, torch.Generator().manual_seed(bench.seed), None)
        times = _step_seconds(model, segment, objective, settings, bench)
        flops = forward_flops(segment.length, model)
        rows[name] = {
            "tokens_per_row": segment.length,
            "attended_pairs": int(segment.mask.sum()),
            "forward_flops": flops,
            "training_flops": TRAINING_FLOPS_FACTOR * flops["total"],
            "step_seconds": statistics.median(times),
            "step_seconds_all": times,
        }
    rad, dup = rows["rad"], rows["full_dup"]
    return {
        "config": asdict(bench), "model_shape": asdict(shape), "results": rows,
        "flops_saved": 1 - rad["training_flops"] / dup["training_flops"],
        "flops_ratio": dup["training_flops"] / rad["training_flops"],
        "measured_speedup": dup["step_seconds"] / rad["step_seconds"],
        "threads": torch.get_num_threads(),
    }


def rad_markdown(report: dict) -> str:
    cfg = report["config"]
    lines = [f"RAD vs full duplication: {cfg['context_tokens']} context + {cfg['response_tokens']} response tokens, "
             f"block {cfg['block_length']}, median of {cfg['repeats']} steps, {report['threads']} threads.", "",
             "| layout | tokens/row | attended pairs | fwd attention GFLOP | fwd linear GFLOP | train GFLOP | step s |",
             "|---|---|---|---|---|---|---|"]
    for name, row in report["results"].items():
        f = row["forward_flops"]
        lines.append(f"| {name} | {row['tokens_per_row']} | {row['attended_pairs']} | {f['attention'] / 1e9:.2f} | "
                     f"{f['linear'] / 1e9:.2f} | {row['training_flops'] / 1e9:.2f} | {row['step_seconds']:.3f} |")
    lines += ["", f"FLOPs saved by RAD: {100 * report['flops_saved']:.1f}% ({report['flops_ratio']:.2f}x by formula); "
                  f"measured step speed-up: {report['measured_speedup']:.2f}x."]
    return "\n".join(lines) + "\n"
