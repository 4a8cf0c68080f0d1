"""Reading rewrites back (regions, order, impression) and comparing labels before / after."""

import pytest

from echo_cxr.data.normalize.checks import compare_chexpert, compare_phantom
from echo_cxr.data.normalize.loopback import template_rewrite
from echo_cxr.data.normalize.prompt import format_block, load_prompt
from echo_cxr.data.normalize.regions import RewriteError, parse_rewrite
from echo_cxr.data.normalize.review import Job, review

GOOD = """Findings:
Thorax: The thorax is symmetric.
Mediastinum and trachea: The trachea is midline.
Lung fields: Small right pleural effusion
Cardiac silhouette: Normal heart size.
Hila: The hila are normal.
Diaphragm and costophrenic angles: Sharp left costophrenic angle.
Bony structures: No fracture.
Tubes, lines and other: None.
Impression: Small right pleural effusion."""
DECORATED = """<think>The user wants the format.</think>
```
Here is the rewritten report:
**Findings:**
1. **Thorax:** The thorax is symmetric.
2. **Mediastinum & Trachea:** The trachea is midline.
3. **Lungs**: Small right pleural effusion.
4. **Heart:** Normal heart size.
5. **HILA:** The hila are normal.
6. **Diaphragm and costophrenic angles:** Sharp left costophrenic angle.
7. **Bones:** No fracture; the bony thorax: intact.
8. **Other:** None
**Impression:** Small right pleural effusion.
```"""
INLINE = ("Findings: Thorax: The thorax is symmetric. Mediastinum and trachea: The trachea is midline. Lung fields: "
          "Small right pleural effusion. Cardiac silhouette: Normal heart size. Hila: The hila are normal. Diaphragm "
          "and costophrenic angles: Sharp left costophrenic angle. Bony structures: No fracture. Tubes, lines and "
          "other: None. Impression: Small right pleural effusion.")


@pytest.mark.parametrize("text", [GOOD, DECORATED, INLINE])
def test_tolerated_spellings_of_the_format(text):
    parsed = parse_rewrite(text, "en")
    findings = parsed.findings("en")
    assert findings.startswith("The thorax is symmetric. The trachea is midline. Small right pleural effusion.")
    assert "None" not in findings and parsed.impression.startswith("Small right pleural effusion.")
    assert parsed.findings("en", with_labels=True).startswith("Thorax: The thorax is symmetric. Mediastinum and")


@pytest.mark.parametrize("text, reason", [
    (GOOD.replace("Hila: The hila are normal.\n", ""), "missing_region: hila"),
    (GOOD.replace("Thorax: The thorax is symmetric.\n", "") + "\nThorax: late.", "region_order"),
    (GOOD + "\nHila: again.", "duplicate_region: hila"),
    (GOOD.replace("Hila: The hila are normal.", "Hila:"), "empty_region: hila"),
    (GOOD.split("Impression")[0], "missing_impression"),
    (GOOD.replace("Impression: Small right pleural effusion.", "Impression: None."), "empty_impression"),
    ("I cannot help with that.", "malformed"),
    ("", "malformed"),
])
def test_structural_rejections(text, reason):
    with pytest.raises(RewriteError, match=reason.replace("(", r"\(")):
        parse_rewrite(text, "en")


def test_prompt_is_versioned_and_shows_the_format():
    prompt = load_prompt("v1")
    assert prompt.prompt_id.startswith("v1:")
    first = prompt.messages("Clear lungs.", "", "en")[0]["content"]
    assert format_block("en") in first and "Findings: Clear lungs." in first and "Impression: (none)" in first
    assert "所见：" in prompt.messages("双肺清晰。", "未见异常。", "zh")[0]["content"]
    retry = prompt.retry([{"role": "user", "content": "x"}], "bad", ["missing_region: hila"], "en")
    assert [m["role"] for m in retry] == ["user", "assistant", "user"] and "missing_region: hila" in retry[2]["content"]
    with pytest.raises(Exception, match="no normalisation prompt version"):
        load_prompt("v999")


def test_label_comparison_rules():
    before = {"Pleural Effusion": 1, "Pneumothorax": 0, "Pneumonia": -1, "Cardiomegaly": None, "No Finding": None}
    same = dict(before, Cardiomegaly=0)  # an omitted region stated as normal is fine
    assert compare_chexpert(before, same) == []
    cases = {"finding_dropped": dict(before, **{"Pleural Effusion": None}),
             "finding_negated": dict(before, **{"Pleural Effusion": 0}),
             "certainty_changed": dict(before, Pneumonia=1),
             "negation_flipped": dict(before, Pneumothorax=1),
             "negation_dropped": dict(before, Pneumothorax=None),
             "finding_added": dict(before, Cardiomegaly=1)}
    for reason, after in cases.items():
        assert [p.split(":")[0] for p in compare_chexpert(before, after)] == [reason]
    assert compare_chexpert(before, cases["negation_dropped"], keep_negatives=False) == []


def job(findings, impression, language="en", phantom=False):
    return Job("k", findings, impression, language, phantom)


def test_review_of_template_rewrites_with_the_real_labelers():
    report = ("Small right pleural effusion. No focal consolidation. Mild cardiomegaly.", "Right effusion, cardiomegaly.")
    item = job(*report)
    assert review(item, template_rewrite(*report, "en"), True, False).problems == []
    # the template's "drop" states the dropped regions as normal: the findings read as negated
    for mode, reason in [("drop_finding", "finding_negated"), ("invent_finding", "finding_added"),
                         ("flip_negation", "negation_flipped"), ("missing_region", "missing_region"),
                         ("wrong_language", "wrong_language")]:
        problems = review(item, template_rewrite(*report, "en", mode), True, False).problems
        assert reason in {p.split(":")[0] for p in problems}, (mode, problems)
    silent = GOOD.replace("Lung fields: Small right pleural effusion", "Lung fields: Clear.").replace(
        "Impression: Small right pleural effusion.", "Impression: Stable chest.")  # says nothing of the effusion
    effusion = job("Small right pleural effusion.", "Right pleural effusion.")
    assert review(effusion, silent, True, False).problems == ["finding_dropped: Pleural Effusion"]


def test_phantom_labels_catch_a_changed_side_the_chexpert_labels_miss():
    report = ("Small right pleural effusion. No pneumothorax.", "Small right pleural effusion.")
    swapped = template_rewrite(*report, "en", "swap_side")
    assert review(job(*report), swapped, True, False).problems == []  # CheXpert labels have no side
    problems = review(job(*report, phantom=True), swapped, True, False).problems
    assert [p.split(":")[0] for p in problems] == ["phantom_labels_changed"]
    assert compare_phantom(report[0], report[0], "en") == []


def test_terms_outside_chexpert_and_measurements():
    item = job("Small hiatal hernia. ET tube 4 cm above the carina.", "Hernia.")
    good = GOOD.replace("Small right pleural effusion", "Small hiatal hernia").replace(
        "Tubes, lines and other: None.", "Tubes, lines and other: ET tube 4 cm above the carina.").replace(
        "Impression: Small right pleural effusion.", "Impression: Hernia.")
    good = good.replace("Normal heart size.", "The heart is not enlarged.")
    assert [p for p in review(item, good, True, False).problems if not p.startswith("negation")] == []
    moved = good.replace("4 cm", "2 cm")
    assert any(p.startswith("measurement_changed: 4 cm -> 2 cm") for p in review(item, moved, True, False).problems)
    dropped = good.replace("Small hiatal hernia", "Clear lungs").replace("Impression: Hernia.", "Impression: Normal.")
    assert "term_dropped: hernia" in review(item, dropped, True, False).problems
    added = good.replace("No fracture.", "No fracture. Calcified granuloma.")
    assert {"term_added: calcification", "term_added: granuloma"} <= set(review(item, added, True, False).problems)
