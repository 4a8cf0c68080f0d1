"""A CheXpert-Plus look-alike (layout in echo_cxr.data.converters.chexpert_plus)."""

from __future__ import annotations

from pathlib import Path

from echo_cxr.data.lookalike.common import KEPT, Expected, LookAlike, write_csv, write_image
from echo_cxr.data.records import MISSING_IMAGE, NO_FRONTAL, NO_TEXT, UNREADABLE_IMAGE

HEADER = ["path_to_image", "path_to_dcm", "frontal_lateral", "ap_pa", "deid_patient_id", "patient_report_date_order",
          "report", "section_narrative", "section_clinical_history", "section_history", "section_comparison",
          "section_technique", "section_procedure_comments", "section_findings", "section_impression",
          "section_end_of_impression", "section_summary", "section_accession_number", "age", "sex", "race",
          "ethnicity", "interpreter_needed", "insurance_type", "recent_bmi", "deceased", "split"]
FRONTAL, LATERAL = ("Frontal", "AP"), ("Lateral", "")
PA = ("Frontal", "PA")

# (split, patient, study, [(view, kind)], findings, impression, report column, outcome, views, validate outcome)
CASES = [
    ("train", "00001", 1, [(PA, "good"), (LATERAL, "good")], "Heart size normal. Lungs are clear.",
     "No acute cardiopulmonary abnormality.", "", KEPT, ["frontal", "lateral"], None),
    ("train", "00001", 2, [(FRONTAL, "good")], "", "Stable right pleural effusion.", "", KEPT, ["frontal"], None),
    ("train", "00002", 1, [(LATERAL, "good")], "Clear.", "Normal.", "", NO_FRONTAL, None, None),
    ("train", "00002", 2, [(FRONTAL, "good")], "", "",
     "NARRATIVE: CHEST 1 VIEW\n\nFINDINGS: Endotracheal tube in good position.\n\nIMPRESSION:\n1. ETT in place."
     "\nIMPRESSION:\n1. ETT in place.\n\nEND OF IMPRESSION", KEPT, ["frontal"], None),
    ("train", "00003", 1, [(FRONTAL, "good")], "", "", "", NO_TEXT, None, None),
    ("train", "00003", 2, [(FRONTAL, "missing"), (LATERAL, "good")], "Clear.", "Normal.", "", MISSING_IMAGE,
     None, None),
    ("valid", "64541", 1, [(PA, "good")], "3 mm nodule ≈ stable; café-au-lait spots.",
     "Nodule, \"unchanged\",\nno new opacity.", "", KEPT, ["frontal"], None),
    ("train", "00004", 1, [(FRONTAL, "empty")], "Clear.", "Normal.", "", UNREADABLE_IMAGE, None, None),
    ("train", "00004", 2, [(FRONTAL, "corrupt"), (LATERAL, "good")], "Mild cardiomegaly.", "Cardiomegaly.", "",
     KEPT, ["frontal", "lateral"], UNREADABLE_IMAGE),
    ("train", "00005", 1, [(LATERAL, "good"), (FRONTAL, "good"), (PA, "good")], "nan", "Low lung volumes.", "",
     KEPT, ["frontal", "lateral"], None),
]
IMPRESSION_FROM_REPORT = "1. ETT in place."
FINDINGS_FROM_REPORT = "Endotracheal tube in good position."


def _row(ref: str, view: tuple[str, str], patient: str, findings: str, impression: str, report: str, split: str):
    row = dict.fromkeys(HEADER, "")
    row.update(path_to_image=ref, path_to_dcm=ref.replace(".jpg", ".dcm"), frontal_lateral=view[0], ap_pa=view[1],
               deid_patient_id=f"patient{patient}", report=report, section_findings=findings,
               section_impression=impression, age="61", sex="Female", split=split)
    return [row[name] for name in HEADER]


def build(root: Path, png_folder: str = "PNG", keep_split_folder: bool = True) -> LookAlike:
    """``png_folder``: "PNG" or "PNG/PNG" (both occur in downloads); ``keep_split_folder=False``
    stores PNGs without their ``train/`` / ``valid/`` folder."""
    root = Path(root)
    look, rows, late = LookAlike(root), [], []
    for index, (split, patient, study, views, findings, impression, report, outcome, kept, on_validate) in \
            enumerate(CASES):
        for number, (view, kind) in enumerate(views, start=1):
            name = f"view{number}_{view[0].lower()}"
            ref = f"{split}/patient{patient}/study{study}/{name}.jpg"
            on_disk = ref if keep_split_folder else ref.split("/", 1)[1]
            if kind != "missing":
                write_image(root / png_folder / Path(on_disk).with_suffix(".png"), index * 10 + number, kind)
            # the first case's lateral row goes to the end of the table: rows of a study need not be adjacent
            (late if index == 0 and number == 2 else rows).append(
                _row(ref, view, patient, findings, impression, report, split))
        expected_findings = FINDINGS_FROM_REPORT if report else ("" if findings == "nan" else findings)
        expected_impression = IMPRESSION_FROM_REPORT if report else " ".join(impression.split())
        look.studies[f"chexpert-plus-{split}-patient{patient}-study{study}"] = Expected(
            outcome, "val" if split == "valid" else split, expected_findings, expected_impression, kept, on_validate)
    write_csv(root / "df_chexpert_plus_240401.csv", HEADER, rows + late)
    return look
