"""Scoring results files: views with and without empty outputs, failures, several draws per
input, mixed runs, clinical label scores (CheXpert-style labeler, Phantom CXR)."""

import json

import pytest

from echo_cxr.errors import EchoError
from echo_cxr.evaluation.metrics.chexpert_labeler import NEGATIVE, POSITIVE, UNCERTAIN, label_reports
from echo_cxr.evaluation.metrics.clinical import label_f1
from echo_cxr.evaluation.scoring import ScoreConfig, score_results, write_scores
from echo_cxr.prompts import format_reference

REF_EN = ("Heart normal.", "No acute disease.")
STATS = {"new_tokens": 8, "forward_passes": 4, "committed_tokens": 8, "tokens_per_second": 100.0,
         "decode_seconds": 0.08, "prefill_seconds": 0.01, "tokens_per_forward": 2.0, "kv_append_passes": 0}


def record(sample_id, report, language="en", ref=REF_EN, draw=0, run="run-a", error=None, labels=None, total=None):
    rec = {"run_id": run, "run_total": total, "sample_id": sample_id, "sample_index": draw, "source": "t.json",
           "source_digest": "d1", "language": language,
           "reference": {"findings": ref[0], "impression": ref[1], "text": format_reference(*ref, language)},
           "report": report, "stats": None if error else dict(STATS), "error": error}
    if labels is not None:
        rec["labels"] = labels
    return rec


def write_results(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return str(path)


def score(tmp_path, records, **settings):
    path = write_results(tmp_path / "results.jsonl", records)
    return score_results(ScoreConfig(results=(path,), **settings))


def value(aggregate, view, group, name):
    return aggregate["views"][view][group]["metrics"][name]["value"]


def test_empty_outputs_and_failures_are_counted_and_scored_both_ways(tmp_path):
    records = [record("a", "Findings: Heart normal. Impression: No acute disease."),
               record("b", ""),
               record("c", None, error="image not found: /x/c.png", total=None)]
    aggregate, rows = score(tmp_path, records, metrics=("rouge", "release_rouge"))
    counts = aggregate["counts"]
    assert (counts["records"], counts["scored"], counts["failed"], counts["empty"]) == (3, 2, 1, 1)
    assert aggregate["failures"] == [{"sample_id": "c", "source": "t.json", "sample_index": 0,
                                      "error": "image not found: /x/c.png"}]
    assert aggregate["empty"] == [{"sample_id": "b", "sample_index": 0}]
    assert value(aggregate, "all", "en", "rouge_1") == pytest.approx(0.5)  # identical (1.0) and empty (0.0)
    assert value(aggregate, "nonempty", "en", "rouge_1") == pytest.approx(1.0)
    assert aggregate["views"]["all"]["en"]["metrics"]["rouge_1"]["n"] == 2
    assert aggregate["views"]["nonempty"]["en"]["metrics"]["rouge_1"]["n"] == 1
    assert value(aggregate, "all", "overall", "release_rouge_l") == pytest.approx(0.5, abs=1e-7)
    assert [(r["sample_id"], r["empty"]) for r in rows] == [("a", False), ("b", True)]
    assert rows[0]["scores"]["rouge_1"] == pytest.approx(1.0)


def test_draws_of_one_input_aggregate_by_max_or_mean(tmp_path):
    good, bad = "Findings: Heart normal. Impression: No acute disease.", "Findings: pneumothorax. Impression: effusion."
    records = [record("a", good, draw=0), record("a", bad, draw=1), record("b", bad, draw=0), record("b", bad, draw=1)]
    best, _ = score(tmp_path, records, metrics=("rouge",), aggregate="max")
    mean, _ = score(tmp_path, records, metrics=("rouge",), aggregate="mean")
    # input a: draws score 1.0 and 0.0; input b: 0.0 and 0.0
    assert value(best, "all", "en", "rouge_1") == pytest.approx((1.0 + 0.0) / 2)
    assert value(mean, "all", "en", "rouge_1") == pytest.approx((0.5 + 0.0) / 2)
    assert best["views"]["all"]["en"]["metrics"]["rouge_1"]["inputs"] == 2


def test_languages_are_scored_apart_and_overall(tmp_path):
    records = [record("a", "Findings: Heart normal. Impression: No acute disease."),
               record("z", "所见：心影不大。 结论：未见异常。", "zh", ("心影不大。", "未见异常。"))]
    aggregate, _ = score(tmp_path, records, metrics=("rouge", "bleu"))
    assert value(aggregate, "all", "zh", "rouge_1") == pytest.approx(1.0, abs=1e-7)
    assert value(aggregate, "all", "overall", "rouge_1") == pytest.approx(1.0, abs=1e-7)
    assert "bleu_4_corpus" in aggregate["views"]["all"]["en"]["metrics"]
    assert "bleu_4_corpus" not in aggregate["views"]["all"]["overall"]["metrics"]  # not pooled across languages
    assert aggregate["speed"]["tpf"] == pytest.approx(2.0) and aggregate["speed"]["tps"] == pytest.approx(100.0)


def test_mixed_runs_duplicates_unknown_metrics_and_cut_files_are_errors(tmp_path):
    with pytest.raises(EchoError, match="2 different runs are mixed"):
        score(tmp_path, [record("a", "x"), record("b", "y", run="run-b")])
    with pytest.raises(EchoError, match="appears twice"):
        score(tmp_path, [record("a", "x"), record("a", "y")])
    with pytest.raises(EchoError, match="unknown metric 'bleurt'"):
        ScoreConfig(results=("r.jsonl",), metrics=("rouge,bleurt",))
    with pytest.raises(EchoError, match="unknown aggregate"):
        ScoreConfig(results=("r.jsonl",), aggregate="median")
    cut = tmp_path / "cut.jsonl"
    cut.write_text(json.dumps(record("a", "x")) + "\n" + '{"run_id": "run-a", "sample', "utf-8")
    with pytest.raises(EchoError, match="line 2 is not a JSON record.*--resume"):
        score_results(ScoreConfig(results=(str(cut),)))
    with pytest.raises(EchoError, match="results file not found"):
        score_results(ScoreConfig(results=(str(tmp_path / "none.jsonl"),)))


def test_outputs_are_written(tmp_path):
    aggregate, rows = score(tmp_path, [record("a", "Findings: Heart normal. Impression: fine.")], metrics=("rouge",),
                            name="demo")
    paths = write_scores(aggregate, rows, str(tmp_path / "out" / "m.json"))
    assert json.loads(open(paths["aggregate"], encoding="utf-8").read())["name"] == "demo"
    assert len(open(paths["per_sample"], encoding="utf-8").read().splitlines()) == 1
    assert "| rouge_1 |" in open(paths["markdown"], encoding="utf-8").read()


def test_chexpert_labeler_states_en_and_zh():
    en = label_reports(["The heart is mildly enlarged. No pleural effusion or pneumothorax. "
                        "Possible consolidation at the left base. Right PICC line in place.",
                        "Lungs are clear. Heart size is normal.", ""], "en")
    assert en[0]["Cardiomegaly"] == POSITIVE and en[0]["Pleural Effusion"] == NEGATIVE
    assert en[0]["Pneumothorax"] == NEGATIVE and en[0]["Consolidation"] == UNCERTAIN
    assert en[0]["Support Devices"] == POSITIVE and en[0]["No Finding"] is None and en[0]["Edema"] is None
    assert en[1]["No Finding"] == POSITIVE and en[1]["Cardiomegaly"] == NEGATIVE
    assert en[2]["No Finding"] == POSITIVE
    zh = label_reports(["心影增大。双肺未见实变，左侧少量胸腔积液。右下肺可能肺不张。", "心影不大，未见气胸。肺炎不除外。"], "zh")
    assert zh[0]["Cardiomegaly"] == POSITIVE and zh[0]["Consolidation"] == NEGATIVE
    assert zh[0]["Pleural Effusion"] == POSITIVE and zh[0]["Atelectasis"] == UNCERTAIN
    assert zh[1]["Cardiomegaly"] == NEGATIVE and zh[1]["Pneumothorax"] == NEGATIVE and zh[1]["Pneumonia"] == UNCERTAIN


def test_label_f1_by_hand():
    names = ["A", "B", "C"]
    pred = [{"A": 1, "B": -1}, {"A": 0, "C": 1}, {}]
    true = [{"A": 1}, {"A": 1, "B": 1}, {"C": -1}]
    # uncertain as positive: A tp1 fn1 -> 2/3; B fp1 fn1 -> 0; C fp1 fn1 -> 0
    scores = label_f1(pred, true, names, uncertain_positive=True)
    assert scores["micro_f1"] == pytest.approx(2 * 1 / (2 * 1 + 2 + 3))
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0 + 0) / 3)
    strict = label_f1(pred, true, names, uncertain_positive=False)  # B pred and C truth no longer count
    assert strict["per_observation"]["B"]["fp"] == 0 and strict["per_observation"]["C"]["fn"] == 0
    assert strict["micro_f1"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 2))


def test_chexpert_f1_from_texts(tmp_path):
    records = [record("a", "Findings: Cardiomegaly. Small left pleural effusion. Impression: Cardiomegaly.",
                      ref=("The heart is enlarged. No effusion.", "Cardiomegaly."))]
    aggregate, _ = score(tmp_path, records, metrics=("chexpert",))
    # predicted {Cardiomegaly, Pleural Effusion}, true {Cardiomegaly}: tp 1, fp 1
    assert value(aggregate, "all", "en", "chexpert_micro_f1_14") == pytest.approx(2 / 3)
    assert value(aggregate, "all", "en", "chexpert_macro_f1_14") == pytest.approx(1 / 14)
    assert value(aggregate, "all", "en", "chexpert_macro_f1_5") == pytest.approx(1 / 5)
    assert value(aggregate, "all", "overall", "chexpert_micro_f1_5") == pytest.approx(2 / 3)


def test_phantom_scores_when_records_carry_labels(tmp_path):
    pytest.importorskip("echo_cxr.phantom", reason="echo_cxr.phantom (Phantom CXR) is not in this checkout")
    effusion = [{"finding": "pleural_effusion", "laterality": "left", "severity": "small"}]
    records = [
        record("a", "Findings: Small left pleural effusion. Impression: Small left pleural effusion.", labels=effusion),
        record("b", "Findings: Right pneumothorax. Impression: Pneumothorax.", labels=effusion),
        record("c", "Findings: Heart normal. Impression: Normal."),
    ]
    aggregate, _ = score(tmp_path, records, metrics=("phantom",))
    # a: tp (attributes exact); b: fp pneumothorax + fn effusion -> micro P = R = 1/2
    assert value(aggregate, "all", "en", "phantom_micro_f1") == pytest.approx(0.5)
    assert value(aggregate, "all", "en", "phantom_attribute_accuracy") == pytest.approx(1.0)
    assert aggregate["views"]["all"]["en"]["details"]["phantom_n_labelled"] == 2
    unlabelled, _ = score(tmp_path, [record("c", "Findings: x. Impression: y.")], metrics=("phantom",))
    assert "no record carries 'labels'" in unlabelled["views"]["all"]["en"]["not_computed"]["phantom"]


def test_repetition_counts_adjacent_repeats_per_report_and_pooled(tmp_path):
    from echo_cxr.evaluation.metrics.fluency import adjacent_repeats, repetition_tokens

    assert adjacent_repeats(repetition_tokens("There There is is pleural effusion.", "en")) == 2
    assert adjacent_repeats(repetition_tokens("Heart size is normal. Normal lungs.", "en")) == 0  # "." separates
    assert repetition_tokens("右侧 右侧肋骨骨折，骨折", "zh") == ["右侧", "右侧", "肋骨", "骨折", None, "骨折"]
    assert adjacent_repeats(repetition_tokens("右侧 右侧肋骨骨折，骨折", "zh")) == 1
    records = [
        record("a", "Findings: There There is is effusion. Impression: Effusion."),  # 2 repeats / 8 words
        record("b", "Findings: Heart normal. Impression: No acute disease."),  # 0 / 7
        record("c", "所见：心影 心影正常。 结论：正常。", language="zh", ref=("心影正常。", "无异常。")),  # 1 / 7 (jieba: 所, 见, ...)
    ]
    aggregate, rows = score(tmp_path, records, metrics=("repetition",))
    assert value(aggregate, "all", "en", "repetition_share") == pytest.approx(2 / 15)
    assert value(aggregate, "all", "en", "repetition_reports") == pytest.approx(0.5)
    assert value(aggregate, "all", "en", "repetition_rate") == pytest.approx((2 / 8 + 0) / 2)
    assert value(aggregate, "all", "zh", "repetition_share") == pytest.approx(1 / 7)
    assert value(aggregate, "all", "overall", "repetition_share") == pytest.approx(3 / 22)
    assert [row["scores"]["repetition_affected"] for row in rows] == [1.0, 0.0, 1.0]


def test_repetition_is_zero_on_phantom_reference_reports():
    from echo_cxr.evaluation.metrics.fluency import adjacent_repeats, repetition_tokens
    from echo_cxr.phantom.study import generate_study

    for index in range(40):
        for language, report in generate_study(5, index, render=False).reports.items():
            assert adjacent_repeats(repetition_tokens(report.text, language)) == 0, report.text
