"""A MIMIC-CXR-JPG + MIMIC-CXR reports look-alike (layout in echo_cxr.data.converters.mimic)."""

from __future__ import annotations

from pathlib import Path

from echo_cxr.data.converters.base import official_split
from echo_cxr.data.lookalike.common import KEPT, Expected, LookAlike, write_csv, write_image
from echo_cxr.data.records import (
    MISSING_IMAGE, NO_FRONTAL, NO_SPLIT, NO_TEXT, REPORT_MISSING, UNREADABLE_IMAGE,
)

METADATA_HEADER = ["dicom_id", "subject_id", "study_id", "PerformedProcedureStepDescription", "ViewPosition",
                   "Rows", "Columns", "StudyDate", "StudyTime", "ProcedureCodeSequence_CodeMeaning",
                   "ViewCodeSequence_CodeMeaning", "PatientOrientationCodeSequence_CodeMeaning"]
SPLIT_HEADER = ["dicom_id", "study_id", "subject_id", "split"]
MEANING = {"PA": "postero-anterior", "AP": "antero-posterior", "LATERAL": "lateral", "LL": "left lateral",
           "AP LLD": "left lateral decubitus", "": ""}


def _report(findings: str | None, impression: str | None, preamble: str = "") -> str:
    text = "                                 FINAL REPORT\n EXAMINATION:  CHEST (PA AND LAT)\n \n"
    text += " INDICATION:  ___F with cough  // eval for pneumonia\n \n COMPARISON:  None.\n \n" + preamble
    if findings is not None:
        text += f" FINDINGS: \n \n {findings}\n \n"
    if impression is not None:
        text += f" IMPRESSION: \n \n {impression}\n"
    return text


# (subject, study, split, [(view, image kind)], report text or None (no file), expected outcome,
#  findings, impression, expected views, outcome with --validate)
CASES = [
    ("10000001", "50000001", "train", [("LATERAL", "good"), ("PA", "good")],
     _report("Heart size is normal. The lungs are clear.\n No pleural effusion or pneumothorax.",
             "No acute cardiopulmonary process."), KEPT,
     "Heart size is normal. The lungs are clear. No pleural effusion or pneumothorax.",
     "No acute cardiopulmonary process.", ["frontal", "lateral"], None),
    ("10000001", "50000002", "train", [("AP", "good")], _report(None, "Moderate right pleural effusion."), KEPT,
     "", "Moderate right pleural effusion.", ["frontal"], None),
    ("10000002", "50000003", "validate", [("PA", "good"), ("LL", "good")],
     _report("Mild cardiomegaly. Lungs clear.", None), KEPT, "Mild cardiomegaly. Lungs clear.", "",
     ["frontal", "lateral"], None),
    ("10000002", "50000004", "train", [("PA", "good")],
     " FINAL REPORT\n FINDINGS:\n \n FINDINGS: Left basilar atelectasis.\n IMPRESSION: Atelectasis.\n"
     " IMPRESSION: Atelectasis.\n", KEPT, "Left basilar atelectasis.", "Atelectasis.", ["frontal"], None),
    ("10000003", "50000005", "train", [("LATERAL", "good")], _report("Clear lungs.", "Normal."), NO_FRONTAL,
     None, None, None, None),
    ("10000003", "50000006", "test", [("PA", "missing"), ("LATERAL", "good")], _report("Clear.", "Normal."),
     MISSING_IMAGE, None, None, None, None),
    ("10000004", "50000007", "train", [("PA", "good")],
     " FINAL REPORT\n INDICATION: fever\n \n COMPARISON: ___\n", NO_TEXT, None, None, None, None),
    ("10000004", "50000008", "train", [("PA", "good")], None, REPORT_MISSING, None, None, None, None),
    ("10000005", "50000009", "train", [("PA", "empty")], _report("Clear.", "Normal."), UNREADABLE_IMAGE,
     None, None, None, None),
    ("10000005", "50000010", "train", [("AP", "corrupt")], _report("Lines in place.", "Stable."), KEPT,
     "Lines in place.", "Stable.", ["frontal"], UNREADABLE_IMAGE),
    ("10000006", "50000011", "test", [("PA", "good")],
     _report("Café-au-lait skin fold, 2 × 3 cm, 5° rotation; no pneumothorax.", "Kein Befund — normal."), KEPT,
     "Café-au-lait skin fold, 2 × 3 cm, 5° rotation; no pneumothorax.", "Kein Befund — normal.",
     ["frontal"], None),
    ("10000006", "50000012", "train", [("", "good")], _report("Portable view. Lungs clear.", "Normal."), KEPT,
     "Portable view. Lungs clear.", "Normal.", ["unknown"], None),
    ("10000007", "50000013", "train", [("AP", "good"), ("AP", "good"), ("LATERAL", "good")],
     _report("ET tube 4 cm above the carina.", "Support devices in place."), KEPT,
     "ET tube 4 cm above the carina.", "Support devices in place.", ["frontal", "lateral"], None),
    ("10000007", "50000014", None, [("PA", "good")], _report("Clear.", "Normal."), NO_SPLIT, None, None, None, None),
    ("10000008", "50000015", "train", [("AP LLD", "good")], _report("Layering effusion.", "Effusion."),
     NO_FRONTAL, None, None, None, None),
    ("10000008", "50000016", "train", [("PA", "good")],
     "WET READ: ___ ___ 2:15 PM\n  no pneumothorax\n\n FINAL REPORT\n Findings: Small left pneumothorax."
     " IMPRESSION: Small left pneumothorax.\n", KEPT, "Small left pneumothorax.", "Small left pneumothorax.",
     ["frontal"], None),
]
LATIN1_CASE = ("10000009", "50000017", "train")  # a report saved in Windows-1252


def build(root: Path, gz: bool = True, nest: str = "", separate_reports: bool = False) -> LookAlike:
    """Write the look-alike under ``root`` (``nest``: folders above the dataset, as a PhysioNet
    download has them; ``separate_reports``: reports in their own ``mimic-cxr-reports/`` tree)."""
    base = Path(root) / nest if nest else Path(root)
    report_base = Path(root) / "mimic-cxr-reports" if separate_reports else base
    meta, splits, look = [], [], LookAlike(Path(root))
    for index, (subject, study, split, views, report, outcome, findings, impression, kept_views, on_validate) \
            in enumerate(CASES):
        folder = f"files/p{subject[:2]}/p{subject}"
        for number, (view, kind) in enumerate(views):
            dicom = f"{study}-{number:02d}-{'abcdef'[number]}9c1e2f"
            meta.append([dicom, subject, study, "CHEST (PA AND LAT)", view, 64, 64, 21800101, 120000, "Chest",
                         MEANING[view], "Erect"])
            if split is not None:
                splits.append([dicom, study, subject, split])
            if kind != "missing":
                write_image(base / folder / f"s{study}" / f"{dicom}.jpg", index * 10 + number, kind)
        if report is not None:
            (report_base / folder).mkdir(parents=True, exist_ok=True)
            (report_base / folder / f"s{study}.txt").write_text(report, encoding="utf-8")
        look.studies[f"mimic-cxr-p{subject}-s{study}"] = Expected(outcome, official_split(split), findings,
                                                                   impression, kept_views, on_validate)
    subject, study, split = LATIN1_CASE
    dicom = f"{study}-00-a9c1e2f"
    meta.append([dicom, subject, study, "CHEST", "PA", 64, 64, 21800101, 120000, "Chest", "postero-anterior", ""])
    splits.append([dicom, study, subject, split])
    write_image(base / f"files/p{subject[:2]}/p{subject}/s{study}/{dicom}.jpg", 999)
    (report_base / f"files/p{subject[:2]}/p{subject}").mkdir(parents=True, exist_ok=True)
    (report_base / f"files/p{subject[:2]}/p{subject}/s{study}.txt").write_bytes(
        " FINDINGS: Naïve patient, lungs clear.\n IMPRESSION: Normal.\n".encode("cp1252"))
    look.studies[f"mimic-cxr-p{subject}-s{study}"] = Expected(KEPT, "train", "Naïve patient, lungs clear.", "Normal.",
                                                              ["frontal"])
    suffix = ".csv.gz" if gz else ".csv"
    write_csv(base / f"mimic-cxr-2.0.0-metadata{suffix}", METADATA_HEADER, meta, gz)
    write_csv(base / f"mimic-cxr-2.0.0-split{suffix}", SPLIT_HEADER, splits, gz)
    return look
