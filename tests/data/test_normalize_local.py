"""The local ``transformers`` backend end to end with a tiny random causal LM built in the test
(nothing downloaded): the plumbing - chat template, generation, token counts, review, audit - runs,
and the random model's answers are rejected, so the originals are kept and flagged."""

import json

import pytest

from echo_cxr.cli import main
from tests.data.normalize_data import read_jsonl, write_samples

MAX_NEW_TOKENS = 12


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from echo_cxr.model.tiny import train_tokenizer

    folder = tmp_path_factory.mktemp("tiny-lm")
    tokenizer = train_tokenizer(vocab_size=400)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_tiny_random_model_through_the_local_backend(tmp_path, tiny_lm):
    reports = {"en": ("Small right pleural effusion.", "Effusion."), "zh": ("右侧少量胸腔积液。", "胸腔积液。")}
    data = write_samples(tmp_path / "in.json", reports)
    out = tmp_path / "out.json"
    with pytest.raises(SystemExit) as done:
        main(["data", "normalize", "--data", str(data), "--out", str(out), "--backend", "transformers",
              "--model", str(tiny_lm), "--max-new-tokens", str(MAX_NEW_TOKENS), "--max-attempts", "2", "--quiet"])
    assert (done.value.code or 0) == 0
    audit = read_jsonl(tmp_path / "out.audit.jsonl")
    assert [row["status"] for row in audit] == ["rejected", "rejected"]
    for row in audit:
        assert row["attempts"] == 2 and row["transport_errors"] == 0
        assert 0 < row["completion_tokens"] <= 2 * MAX_NEW_TOKENS and row["prompt_tokens"] > 100
    entries = json.loads(out.read_text(encoding="utf-8"))
    assert [(e["ground_truth"]["findings"], e["ground_truth"]["impression"]) for e in entries] == list(reports.values())
    cache = read_jsonl(tmp_path / "out.cache.jsonl")
    assert {r["model"] for r in cache} == {f"transformers:{tiny_lm}"}
    assert all(len(r["attempts"]) == 2 and r["attempts"][1]["answer"] is not None for r in cache)
