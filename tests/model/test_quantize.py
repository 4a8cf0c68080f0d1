"""int8 linear layers (CPU speed path): only the language model is quantised, every decoder fast
path still equals its plain path on the quantised model, and the benchmark measures agreement."""

from __future__ import annotations

import json

import pytest
import torch

from echo_cxr.errors import EchoError


# int8 activations are quantised per call (dynamic, one scale per input), so a row's numbers depend on what
# it is batched with: quantised paths are compared by token agreement, not equality.
MIN_AGREEMENT = 0.9


@pytest.fixture(scope="module")
def int8_bundle(tiny_bundle):
    import copy
    from dataclasses import replace

    from echo_cxr.model.quantize import quantize_model

    return quantize_model(replace(tiny_bundle, model=copy.deepcopy(tiny_bundle.model)), "int8")


def test_only_the_language_model_is_quantised(int8_bundle):
    quantized = torch.ao.nn.quantized.dynamic.Linear
    model = int8_bundle.model
    assert isinstance(model.lm_head, quantized)
    assert all(isinstance(m, quantized) for m in model.model.language_model.modules()
               if isinstance(m, torch.nn.Linear) or isinstance(m, quantized))
    assert any(isinstance(m, torch.nn.Linear) and not isinstance(m, quantized) for m in model.model.visual.modules())
    mlp = model.model.language_model.layers[0].mlp
    assert mlp.up_proj.group is mlp.gate_proj.group  # gate and up: one product (model/fused_linear.py)
    assert mlp.up_proj.group.linear.weight().dtype == torch.qint8
    assert mlp.down_proj.weight().qscheme() == torch.per_channel_affine


def test_int8_paths_agree_with_each_other_and_with_float32(int8_bundle, tiny_bundle, studies):
    from echo_cxr.bench.decode import token_agreement
    from echo_cxr.decoding import DecodeConfig, generate

    common = dict(block_length=4, steps=1, max_new_tokens=12, ignore_eos=True)
    tokens = lambda bundle, rows, **kw: [r.token_ids for r in generate(bundle, rows, DecodeConfig(**common, **kw))]
    fused = tokens(int8_bundle, studies, fused=True)
    alone = [tokens(int8_bundle, [s], fused=True)[0] for s in studies]
    assert token_agreement(fused, tokens(int8_bundle, studies, fused=False)) >= MIN_AGREEMENT
    assert token_agreement(fused, alone) >= MIN_AGREEMENT
    assert token_agreement(fused, tokens(tiny_bundle, studies, fused=True)) >= MIN_AGREEMENT


def test_bad_quantization_settings():
    from echo_cxr.model import load

    with pytest.raises(EchoError, match="unknown quantization"):
        load("random:tiny", quantize="int3")
    with pytest.raises(EchoError, match="float32"):
        load("random:tiny", dtype="bfloat16", quantize="int8")


def test_bench_reports_token_agreement_with_a_reference(tmp_path, capsys):
    from echo_cxr.bench.decode import token_agreement
    from echo_cxr.cli import main

    assert token_agreement([[1, 2, 3, 4]], [[1, 2, 9]]) == 0.5
    args = ["bench", "decode", "--model", "random:tiny", "--max-new-tokens", "8", "--repeats", "1", "--warmup",
            "0", "--runs", "fixed", "--modes", "ar,one_step"]
    reference = tmp_path / "fp32.json"
    with pytest.raises(SystemExit):
        main([*args, "--quantize", "none", "--out", str(reference)])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main([*args, "--quantize", "none", "--reference", str(reference), "--json"])
    same = json.loads(capsys.readouterr().out)
    assert [r["token_agreement"] for r in same["results"]] == [1.0, 1.0]
    with pytest.raises(SystemExit) as done:
        main([*args, "--quantize", "int8", "--reference", str(reference), "--json"])
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quantize"] == "int8" and report["reference"]["quantize"] == "none"
    assert all(0.0 <= r["token_agreement"] <= 1.0 for r in report["results"])


def test_bench_measures_several_formats_and_gives_each_mode_its_best(capsys):
    from echo_cxr.cli import main

    with pytest.raises(SystemExit) as done:
        main(["bench", "decode", "--model", "random:tiny", "--max-new-tokens", "8", "--repeats", "1", "--warmup",
              "0", "--runs", "fixed", "--modes", "ar,one_step", "--quantize", "none,int8", "--json"])
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["results"]
    assert [(r["quantize"], r["mode"]) for r in rows] == [("none", "ar"), ("none", "one_step"),
                                                         ("int8", "ar"), ("int8", "one_step")]
    assert all(r["speedup_vs_ar"] == 1.0 for r in rows if r["mode"] == "ar")  # against the same format's AR
    (best,) = report["best"]
    fastest = lambda mode: max(r["tokens_per_second"] for r in rows if r["mode"] == mode)  # noqa: E731
    assert best["ratio"] == pytest.approx(fastest("one_step") / fastest("ar"))
    assert report["cpu"]["model"] and "usable" in report["cpu"]


def test_auto_resolves_on_load_and_says_so(capsys):
    from echo_cxr.model import load
    from echo_cxr.model.quantize import FORMATS, choose_quantization

    bundle = load("random:tiny", quantize="auto")
    assert bundle.quantize in FORMATS and bundle.quantize == choose_quantization("auto").mode
    assert f"quantize auto -> {bundle.quantize}: " in capsys.readouterr().err
    strict = load("random:tiny", quantize="none")
    assert strict.quantize == "none" and not capsys.readouterr().err
