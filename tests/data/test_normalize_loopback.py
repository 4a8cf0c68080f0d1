"""``data normalize`` against a loopback OpenAI-compatible server: good rewrites are accepted, each
bad kind is rejected for its reason, transport failures are retried, rejected reports keep the
original and are flagged, and the audit says what happened to every sample."""

import json

import pytest

from echo_cxr.cli import main
from echo_cxr.data.normalize.loopback import LoopbackLLM
from tests.data.normalize_data import read_jsonl, write_samples

REPORTS = {
    "good": ("Small right pleural effusion. No pneumothorax.", "Right pleural effusion."),
    "same-text": ("Small right pleural effusion. No pneumothorax.", "Right pleural effusion."),
    "retried": ("Mild cardiomegaly. The lungs are clear.", "Cardiomegaly."),
    "dropped": ("Left lower lobe consolidation.", "Pneumonia."),
    "invented": ("Heart size is normal. Lungs clear.", "No acute process."),
    "flipped": ("There is no pneumothorax. Small left effusion.", "Left effusion."),
    "swapped": ("Atelectasis at the right base.", "Atelectasis."),
    "malformed": ("Sternotomy wires. Lungs clear.", "Post-operative chest."),
    "language": ("Calcified granuloma. Lungs clear.", "Old granulomatous disease."),
    "http500": ("Hyperinflated lungs.", "Emphysema."),
    "timeout": ("Low lung volumes with bibasilar opacity.", "Possible aspiration."),
    "badbody": ("Pulmonary edema.", "Edema."),
    "empty": ("", ""),
    "zh-good": ("右侧少量胸腔积液。未见气胸。", "右侧胸腔积液。"),
    "zh-flipped": ("未见气胸。心影增大。", "心脏增大。"),
}
PLAN = {
    "Mild cardiomegaly": ["missing_region", "good"],
    "consolidation": ["drop_finding"],
    "Heart size is normal": ["invent_finding"],
    "There is no pneumothorax": ["flip_negation"],
    "Atelectasis at": ["swap_regions"],
    "Sternotomy": ["malformed"],
    "granuloma": ["wrong_language"],
    "Hyperinflated": ["http500", "http500", "good"],
    "bibasilar": ["timeout", "good"],
    "edema": ["bad_json", "no_choices", "good"],
    "心影增大": ["flip_negation"],
}
EXPECTED = {  # sample -> (audit status, reasons of its rejected attempts)
    "good": ("accepted", set()), "same-text": ("accepted", set()), "retried": ("retried", {"missing_region"}),
    "dropped": ("rejected", {"finding_dropped"}), "invented": ("rejected", {"finding_added"}),
    "flipped": ("rejected", {"negation_flipped"}), "swapped": ("rejected", {"region_order"}),
    "malformed": ("rejected", {"malformed"}), "language": ("rejected", {"wrong_language"}),
    "http500": ("accepted", set()), "timeout": ("accepted", set()), "badbody": ("accepted", set()),
    "empty": ("skipped_empty", set()), "zh-good": ("accepted", set()), "zh-flipped": ("rejected", {"negation_flipped"}),
}


# generous: under a loaded CPU (training beside the suite) a plain answer once took over 0.5 s and
# was counted as a transport error; the "timeout" sample sleeps twice this long
CLIENT_TIMEOUT_S = 1.5


@pytest.fixture
def server():
    llm = LoopbackLLM(PLAN, timeout_sleep_s=2 * CLIENT_TIMEOUT_S)
    url = llm.start()
    yield llm, url
    llm.stop()


def run(args):
    with pytest.raises(SystemExit) as done:
        main(["data", "normalize", *args, "--quiet"])
    return done.value.code or 0


def normalize(data, out, url, *extra):
    return run(["--data", str(data), "--out", str(out), "--model", "loopback", "--endpoint", url,
                "--timeout", str(CLIENT_TIMEOUT_S), "--backoff", "0.01", "--concurrency", "3", *extra])


def test_good_rewrites_accepted_and_each_bad_kind_rejected(tmp_path, server):
    llm, url = server
    data = write_samples(tmp_path / "in.json", REPORTS)
    assert normalize(data, tmp_path / "out.json", url) == 0
    audit = {row["sample_id"]: row for row in read_jsonl(tmp_path / "out.audit.jsonl")}
    for sample, (status, reasons) in EXPECTED.items():
        row = audit[sample]
        assert row["status"] == status, (sample, row)
        found = {p.split(":")[0] for problems in row["problems"] for p in problems}
        assert found == reasons, (sample, row["problems"])
    assert audit["dropped"]["attempts"] == 3 and audit["retried"]["attempts"] == 2
    assert audit["http500"]["transport_errors"] == 2 and audit["timeout"]["transport_errors"] == 1
    assert audit["badbody"]["transport_errors"] == 2
    out = {e["sample_id"]: e for e in json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))}
    assert list(out) == list(REPORTS)
    # accepted: rewritten in region order, original kept beside it; rejected: original kept and flagged
    good = out["good"]
    assert good["ground_truth"]["findings"].startswith("The thorax is symmetric.")
    assert good["original_ground_truth"] == {"findings": REPORTS["good"][0], "impression": REPORTS["good"][1]}
    assert out["flipped"]["ground_truth"] == {"findings": REPORTS["flipped"][0], "impression": REPORTS["flipped"][1]}
    assert out["flipped"]["normalization"]["status"] == "rejected" and "original_ground_truth" not in out["flipped"]
    assert out["zh-good"]["ground_truth"]["findings"].startswith("胸廓对称。")
    assert out["good"]["images"] == ["images/good.png"]  # still relative to the (same) folder
    # the same report text is asked once; the summary adds up
    asked = [findings for findings, _ in llm.requests]
    assert asked.count(REPORTS["good"][0]) == 1
    summary = json.loads((tmp_path / "out.summary.json").read_text())
    assert summary["samples"] == len(REPORTS) and summary["distinct_reports"] == len(REPORTS) - 2
    assert summary["requests"] == len(llm.requests) and summary["transport_errors"] == 5
    assert summary["prompt_tokens"] > 0 and summary["completion_tokens"] > 0 and summary["wall_seconds"] > 0
    assert sum(summary["status"].values()) == len(REPORTS)
    # a rerun answers everything from the cache
    before = len(llm.requests)
    assert normalize(data, tmp_path / "out.json", url) == 0
    assert len(llm.requests) == before
    rerun = json.loads((tmp_path / "out.summary.json").read_text())
    assert rerun["from_cache"] == len(REPORTS) - 2 and rerun["status"] == summary["status"]


def test_endpoint_down_keeps_originals_flags_errors_and_a_rerun_retries(tmp_path):
    data = write_samples(tmp_path / "in.json", {k: REPORTS[k] for k in ("good", "retried", "zh-good")})
    broken = LoopbackLLM({"": ["http500"]})
    url = broken.start()
    assert normalize(data, tmp_path / "out.json", url, "--max-retries", "2") == 1
    broken.stop()
    audit = read_jsonl(tmp_path / "out.audit.jsonl")
    assert {row["status"] for row in audit} == {"error"} and all(row["transport_errors"] == 3 for row in audit)
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [e["ground_truth"] for e in out] == [{"findings": f, "impression": i} for f, i in
                                                (REPORTS["good"], REPORTS["retried"], REPORTS["zh-good"])]
    healthy = LoopbackLLM()
    url = healthy.start()
    assert normalize(data, tmp_path / "out.json", url) == 0
    healthy.stop()
    assert {row["status"] for row in read_jsonl(tmp_path / "out.audit.jsonl")} == {"accepted"}


def test_non_retryable_http_errors_unreachable_endpoints_and_bad_options(tmp_path, capsys):
    data = write_samples(tmp_path / "in.json", {"good": REPORTS["good"]})
    refusing = LoopbackLLM({"": ["http401"]})
    url = refusing.start()
    assert normalize(data, tmp_path / "out.json", url, "--max-retries", "3") == 1
    refusing.stop()
    (row,) = read_jsonl(tmp_path / "out.audit.jsonl")
    assert row["status"] == "error" and row["transport_errors"] == 1 and len(refusing.requests) == 1
    assert normalize(data, tmp_path / "out.json", "http://127.0.0.1:9/v1", "--max-retries", "1") == 1
    (row,) = read_jsonl(tmp_path / "out.audit.jsonl")
    assert row["status"] == "error" and row["transport_errors"] == 2
    assert run(["--data", str(data), "--out", str(tmp_path / "o.json"), "--model", "m"]) == 2
    assert "--endpoint" in capsys.readouterr().err
    assert run(["--data", str(data), "--out", str(data), "--model", "m", "--endpoint", "http://x/v1"]) == 2
    assert run(["--data", str(data), "--out", str(tmp_path / "o.json"), "--model", "m", "--backend", "nope"]) == 2


@pytest.mark.parametrize("spelling", ["{url}", "{url}/chat/completions", "{root}"])
def test_endpoint_spellings(tmp_path, server, spelling):
    llm, url = server
    data = write_samples(tmp_path / "in.json", {"good": REPORTS["good"]})
    endpoint = spelling.format(url=url, root=url[: -len("/v1")])
    assert normalize(data, tmp_path / "out.json", endpoint) == 0
    assert [row["status"] for row in read_jsonl(tmp_path / "out.audit.jsonl")] == ["accepted"]
