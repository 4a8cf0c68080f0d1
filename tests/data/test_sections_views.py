"""Free-text report sections, view categories and the streaming readers, on their own."""

import gzip
import json

import pytest

from echo_cxr.data.sections import clean_text, findings_and_impression
from echo_cxr.data.tables import grouped_rows, iter_json_entries, read_csv
from echo_cxr.data.views import classify_view

MIMIC = """                                 FINAL REPORT
 EXAMINATION:  CHEST (PA AND LAT)
 INDICATION:  ___F with cough
 COMPARISON:  None.
 FINDINGS:
 There is no focal consolidation, pleural effusion or pneumothorax.  Bilateral
 nodular opacities most likely represent nipple shadows.
 IMPRESSION:
 No acute cardiopulmonary process.
"""


@pytest.mark.parametrize("text, expected", [
    (MIMIC, ("There is no focal consolidation, pleural effusion or pneumothorax. Bilateral nodular opacities most "
             "likely represent nipple shadows.", "No acute cardiopulmonary process.")),
    ("IMPRESSION: Only an impression.", ("", "Only an impression.")),
    ("FINDINGS: Only findings.", ("Only findings.", "")),
    ("FINDINGS:\n\nFINDINGS: Clear.\nIMPRESSION: Normal.\nIMPRESSION: Normal.", ("Clear.", "Normal.")),
    ("FINDINGS: A.\nFINDINGS: B.\nIMPRESSION: C.", ("A. B.", "C.")),
    ("INDICATION: cough\nCOMPARISON: None. FINDINGS: Lungs clear. IMPRESSION: Normal.", ("Lungs clear.", "Normal.")),
    ("Findings: lungs clear. Impression: normal. Note: call Dr ___.", ("lungs clear.", "normal. Note: call Dr ___.")),
    ("FINDINGS:\nLUNGS: Clear.\nHEART: Normal size.\nIMPRESSION: Normal.", ("LUNGS: Clear. HEART: Normal size.",
                                                                           "Normal.")),
    ("PA AND LATERAL VIEWS OF THE CHEST: Heart normal.\nCONCLUSION: Normal.", ("Heart normal.", "Normal.")),
    ("IMPRESSON: A typo.", ("", "A typo.")),
    ("FINDINGS AND IMPRESSION: Combined.", ("", "Combined.")),
    ("FINDINGS\n Clear lungs, café-au-lait.\n IMPRESSION\n Négatif.", ("Clear lungs, café-au-lait.", "Négatif.")),
    ("所见：双肺纹理清晰。结论：未见异常。", ("双肺纹理清晰。", "未见异常。")),
    ("INDICATION: fever\nCOMPARISON: ___", ("", "")),
    ("no headings at all", ("", "")),
])
def test_findings_and_impression(text, expected):
    assert findings_and_impression(text) == expected


def test_clean_text_placeholders():
    assert [clean_text(v) for v in (None, float("nan"), "nan", "None.", " N/A ", "a\n  b\u00a0c")] == \
        ["", "", "", "", "", "a b c"]


@pytest.mark.parametrize("value, category", [
    ("PA", "frontal"), ("AP", "frontal"), ("POSTERO_ANTERIOR", "frontal"), ("antero-posterior", "frontal"),
    ("Frontal", "frontal"), ("AP AXIAL", "frontal"), ("LATERAL", "lateral"), ("LL", "lateral"), ("Lateral", "lateral"),
    ("XTABLE LATERAL", "lateral"), ("AP LLD", "other"), ("LAO", "other"), ("SWIMMERS", "other"), ("", "unknown"),
    (None, "unknown"), (float("nan"), "unknown"), ("UNKNOWN", "unknown"), ("weird", "unknown"),
])
def test_view_categories(value, category):
    assert classify_view(value) == category


def test_streaming_readers(tmp_path, monkeypatch):
    import echo_cxr.data.tables as tables

    monkeypatch.setattr(tables, "JSON_CHUNK_CHARS", 7)  # entries straddle many read windows
    entries = {f"k{i}": {"ImagePath": ["../deid_png/a.png"] * i, "Findings": "所见 é" * i, "n": 1234.5}
               for i in range(6)}
    (tmp_path / "a.json").write_text(json.dumps(entries, ensure_ascii=False))
    assert dict(iter_json_entries(tmp_path / "a.json")) == entries
    (tmp_path / "b.json").write_text(json.dumps([{"id": 1}, {"id": 2}]))
    assert list(iter_json_entries(tmp_path / "b.json")) == [(None, {"id": 1}), (None, {"id": 2})]
    (tmp_path / "c.json").write_text('{"a": 1, "b": ')
    with pytest.raises(Exception, match="malformed JSON"):
        list(iter_json_entries(tmp_path / "c.json"))
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress('\ufeffKey,Text\na,"x,\ny"\nb,2\na,3\n'.encode()))
    assert list(read_csv(tmp_path / "t.csv.gz"))[0] == {"key": "a", "text": "x,\ny"}
    count, groups = grouped_rows(tmp_path / "t.csv.gz", lambda row: row["key"])
    assert count == 2 and [(k, [r["text"] for r in rows]) for k, rows in groups] == [("b", ["2"]), ("a", ["x,\ny", "3"])]
