import json

import pytest

from echo_cxr.bench.decode import MODES, DecodeBenchConfig, run_decode_bench
from echo_cxr.bench.render import decode_markdown, plot_tpf_vs_quality
from echo_cxr.cli import main
from echo_cxr.decoding.profile import PHASES
from echo_cxr.errors import EchoError

ROW_FIELDS = ("run", "batch_size", "mode", "decoder", "block_length", "steps", "fused", "new_tokens",
              "forward_passes", "committed_tokens", "tokens_per_forward", "tokens_per_second",
              "tokens_per_second_all", "decode_seconds", "prefill_seconds", "phases", "overhead_fraction",
              "speedup_vs_ar")


def test_cli_json_has_every_field(capsys):
    with pytest.raises(SystemExit) as done:
        main(["bench", "decode", "--model", "random:tiny", "--max-new-tokens", "16", "--repeats", "2",
              "--warmup", "0", "--batch-sizes", "1,2", "--json"])
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("model", "dtype", "device", "machine", "date", "config", "results"):
        assert key in report
    rows = report["results"]
    assert {(r["run"], r["batch_size"], r["mode"]) for r in rows} == {
        (run, batch, mode) for run in ("fixed", "natural") for batch in (1, 2) for mode in MODES
    }
    for row in rows:
        assert set(ROW_FIELDS) <= set(row)
        assert set(PHASES) == set(row["phases"])
        assert len(row["tokens_per_second_all"]) == 2
    fixed = {r["mode"]: r for r in rows if r["run"] == "fixed" and r["batch_size"] == 1}
    assert all(r["new_tokens"] == 16 for r in fixed.values())  # --ignore-eos runs are exact
    assert fixed["ar"]["tokens_per_forward"] == 1.0 and fixed["ar"]["speedup_vs_ar"] == 1.0
    assert fixed["one_step"]["forward_passes"] == fixed["one_step_unfused"]["forward_passes"]
    assert fixed["one_step"]["phases"]["kv_append"] == 0 < fixed["one_step_unfused"]["phases"]["kv_append"]
    assert fixed["one_step"]["tokens_per_forward"] > 4


def test_markdown_and_plot(tmp_path, tiny_bundle):
    bench = DecodeBenchConfig(max_new_tokens=8, repeats=1, warmup=0, runs=("fixed",), modes=("ar", "one_step"))
    report = run_decode_bench(tiny_bundle, bench)
    table = decode_markdown(report)
    assert table.count("\n| fixed |") == 2 and "x AR" in table
    path = plot_tpf_vs_quality(report, {"ar": 0.5, "one_step": 0.4}, tmp_path / "plot.png")
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("kwargs", [{"modes": ("warp",)}, {"runs": ("sometimes",)}, {"batch_sizes": (0,)},
                                    {"repeats": 0}])
def test_bad_bench_settings(kwargs):
    with pytest.raises(EchoError):
        DecodeBenchConfig(**kwargs)


def test_repeats_take_turns_across_modes(tiny_bundle, monkeypatch):
    """Warm-ups first, then repeat 1 of every mode, repeat 2 of every mode...: a slow spell of the
    machine falls on all modes alike, not on one mode's whole series."""
    from echo_cxr.bench import decode

    order, measure = [], decode._measure
    monkeypatch.setattr(decode, "_measure", lambda bundle, studies, decoder, config: (
        order.append((decoder, config.num_steps, config.use_fused)), measure(bundle, studies, decoder, config))[1])
    bench = DecodeBenchConfig(max_new_tokens=8, runs=("fixed",), modes=("ar", "one_step", "multi_step"),
                              repeats=2, warmup=1)
    report = run_decode_bench(tiny_bundle, bench)
    cycle = order[:3]
    assert len(set(cycle)) == 3 and order == cycle * 3
    assert [r["mode"] for r in report["results"]] == ["ar", "one_step", "multi_step"]
    assert all(len(r["tokens_per_second_all"]) == 2 for r in report["results"])
