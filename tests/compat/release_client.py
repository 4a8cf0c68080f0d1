"""A client that uses a checkpoint the way the ECHO release's inference scripts do (METHOD.md sections 2-3).

Written from the release's documented convention, not from echo-cxr's decoder, and importing only
torch, transformers and PIL, so that it runs unchanged in a virtual environment with the release's
transformers (4.55.4; 4.57.1 for its evaluation - ``scripts/release-compat.sh`` makes them) and under
5.x. What it does, as the release does:

- loads ``AutoModelForCausalLM`` / ``AutoProcessor`` / ``AutoTokenizer`` with ``trust_remote_code=True``;
- mask id: ``--mask-id``, else ``model.config.mask_token_id``, else the tokenizer's mask token, else
  the id of ``<|MASK|>``; EOS: ``tokenizer.eos_token_id``;
- prompt: ``processor.apply_chat_template`` (one image entry per view, then the instruction,
  ``add_generation_prompt=True``), then ``processor(text=[text], images=[...], max_pixels=2250000,
  padding=True, return_tensors="pt")`` on RGB images;
- canvas of ceil((P + G) / L) * L positions; prefill the prompt with pixels and a 4D 0/1 float block
  mask into a ``DynamicCache`` (``store_kv=True``); crop the cache to the largest multiple of L <= P;
- per block: denoise with ``store_kv=False`` (``cache_position`` given) until no mask is left,
  committing by ``low_confidence_dynamic`` (threshold tau; S = 1 commits everything); one-step
  decoding fuses the finished previous block into the next block's first forward
  (``store_kv=True, store_kv_len=L``), otherwise a separate forward appends it;
- stops after the block with EOS among its generated positions; cuts at the first EOS, then at the
  first mask; decodes with ``skip_special_tokens=True``.

Usage: ``python tests/compat/release_client.py --model DIR --jobs jobs.json [--out results.jsonl]``
with jobs.json a list of ``{"images": [path, ...], "lang": "en"|"zh", "block_length": L, "steps": S,
"threshold": tau, "max_new_tokens": G}``; prints (or writes) one JSON line per job:
``{"token_ids": [...], "report": "...", "transformers": "4.55.4"}``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

# The release's instructions (METHOD.md section 1), byte-exact; tests check them against echo-cxr's.
PROMPTS = {
    "en": "Review this chest X-ray and write a report. Use this format: Findings: {}, Impression: {}.",
    "zh": "这是一组胸部X光图像，请生成一份医学报告，包括所见和结论。以以下格式返回报告：所见：{} 结论：{}。",
}
MAX_PIXELS = 2_250_000
MASK_TOKEN = "<|MASK|>"
DEFAULT_THRESHOLD = 0.85


def load_release_style(folder: str, dtype: str = "float32"):
    """Model, processor and tokenizer through the Auto classes with remote code, as the release loads them."""
    import torch
    from transformers import AutoModelForCausalLM, AutoProcessor, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=getattr(torch, dtype), device_map="cpu",
                                                 trust_remote_code=True).eval()
    processor = AutoProcessor.from_pretrained(folder, trust_remote_code=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    return model, processor, tokenizer


def resolve_mask_id(model, tokenizer, given: int | None = None) -> int:
    for candidate in (given, getattr(model.config, "mask_token_id", None), tokenizer.mask_token_id):
        if candidate is not None:
            return int(candidate)
    return int(tokenizer.convert_tokens_to_ids(MASK_TOKEN))


def encode(processor, image_paths: list[str], prompt: str, max_pixels: int = MAX_PIXELS):
    from PIL import Image

    images = [Image.open(path).convert("RGB") for path in image_paths]
    content = [{"type": "image", "image": path} for path in image_paths] + [{"type": "text", "text": prompt}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                         add_generation_prompt=True)
    return processor(text=[text], images=images, max_pixels=max_pixels, padding=True, return_tensors="pt")


def block_mask(length: int, block: int):
    """(length, length) float mask, 1 = may attend: block-causal from position 0 (METHOD.md section 2)."""
    import torch

    index = torch.arange(length) // block
    return (index[None, :] <= index[:, None]).float()


def commit_positions(confidence, masked, quota: int, threshold: float, steps: int):
    """low_confidence_dynamic: all masked above tau if at least ``quota`` are, else the quota most confident."""
    import torch

    if steps == 1:
        return masked
    above = masked & (confidence > threshold)
    if int(above.sum()) >= quota:
        return above
    count = min(quota, int(masked.sum()))
    order = torch.sort(confidence, descending=True, stable=True).indices  # ties: leftmost first
    commit = torch.zeros_like(masked)
    commit[order[:count]] = True
    return commit


def _forward(model, x, full_mask, cache, start, end, **extra):
    import torch

    return model(input_ids=x[:, start:end], attention_mask=full_mask[start:end, :end][None, None],
                 cache_position=torch.arange(start, end), past_key_values=cache, use_cache=True, **extra)


def decode_blocks(model, inputs, mask_id: int, eos_ids, block: int, steps: int, max_new: int,
                  threshold: float, fused: bool) -> list[int]:
    """Generated canvas positions up to the end of the block where decoding stopped."""
    import torch
    from transformers import DynamicCache

    ids = inputs["input_ids"]
    prompt = ids.shape[1]
    total = math.ceil((prompt + max_new) / block) * block
    x = torch.full((1, total), mask_id, dtype=torch.long)
    x[:, :prompt] = ids
    full_mask = block_mask(total, block)
    cache = DynamicCache()
    model(input_ids=ids, pixel_values=inputs["pixel_values"], image_grid_thw=inputs["image_grid_thw"],
          attention_mask=full_mask[:prompt, :prompt][None, None], past_key_values=cache, use_cache=True,
          store_kv=True)
    start = (prompt // block) * block
    if prompt > start:
        cache.crop(start - prompt)
    previous = None
    for b_start in range(start, total, block):
        b_end = b_start + block
        step = 0
        while bool((x[0, b_start:b_end] == mask_id).any()):
            masked = x[0, b_start:b_end] == mask_id
            if fused and previous is not None and step == 0:
                logits = _forward(model, x, full_mask, cache, previous, b_end, store_kv=True,
                                  store_kv_len=block).logits[0, block:]
            else:
                logits = _forward(model, x, full_mask, cache, b_start, b_end, store_kv=False).logits[0]
            confidence, tokens = torch.softmax(logits.float(), -1).max(-1)
            confidence = confidence.masked_fill(~masked, -float("inf"))
            quota = block // steps + (1 if step < block % steps else 0)
            commit = commit_positions(confidence, masked, quota, threshold, steps)
            x[0, b_start:b_end] = torch.where(commit, tokens, x[0, b_start:b_end])
            step += 1
        if any(t in eos_ids for t in x[0, max(b_start, prompt):b_end].tolist()):
            break
        if fused:
            previous = b_start
        else:
            _forward(model, x, full_mask, cache, b_start, b_end, store_kv=True)
    return x[0, prompt:b_end].tolist()


def cut_report(ids: list[int], eos_id: int, mask_id: int) -> list[int]:
    """Cut at the first EOS, then at the first mask."""
    for stop in (eos_id, mask_id):
        if stop in ids:
            ids = ids[: ids.index(stop)]
    return ids


def run_job(model, processor, tokenizer, job: dict, mask_id: int) -> dict:
    import torch

    import transformers

    block, steps = job["block_length"], job["steps"]
    inputs = encode(processor, job["images"], PROMPTS[job.get("lang", "en")], job.get("max_pixels", MAX_PIXELS))
    with torch.no_grad():
        generated = decode_blocks(model, inputs, mask_id, {tokenizer.eos_token_id}, block, steps,
                                  job["max_new_tokens"], job.get("threshold", DEFAULT_THRESHOLD),
                                  fused=job.get("fused", steps == 1))
    ids = cut_report(generated, tokenizer.eos_token_id, mask_id)
    report = tokenizer.decode(ids, skip_special_tokens=True).strip()
    return {"token_ids": ids, "report": report, "transformers": transformers.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="checkpoint folder")
    parser.add_argument("--jobs", required=True, help="JSON list of decoding jobs")
    parser.add_argument("--out", help="write JSON lines here (default: stdout)")
    parser.add_argument("--mask-id", type=int, default=None)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)
    with open(args.jobs, encoding="utf-8") as handle:
        jobs = json.load(handle)
    model, processor, tokenizer = load_release_style(args.model, args.dtype)
    mask_id = resolve_mask_id(model, tokenizer, args.mask_id)
    lines = [json.dumps(run_job(model, processor, tokenizer, job, mask_id), ensure_ascii=False) for job in jobs]
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
