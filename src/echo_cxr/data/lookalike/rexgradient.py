"""A ReXGradient-160K look-alike (layout in echo_cxr.data.converters.rexgradient)."""

from __future__ import annotations

import json
from pathlib import Path

from echo_cxr.data.lookalike.common import KEPT, Expected, LookAlike, write_csv, write_image
from echo_cxr.data.records import DUPLICATE_STUDY, MISSING_IMAGE, NO_FRONTAL, NO_IMAGES, NO_TEXT, UNREADABLE_IMAGE

NAN = float("nan")
# (split file, key, [(view or None = list too short, kind)], findings, impression, outcome, views, validate outcome)
CASES = [
    ("train", "GRDN0001_A1", [("LATERAL", "good"), ("PA", "good")], "Heart normal. Lungs clear.", "Normal chest.",
     KEPT, ["frontal", "lateral"], None),
    ("train", "GRDN0001_A2", [("POSTERO_ANTERIOR", "good"), ("LL", "good")], "Small left effusion.",
     "Left pleural effusion.", KEPT, ["frontal", "lateral"], None),
    ("train", "GRDN0002_A3", [("LATERAL", "good")], "Clear.", "Normal.", NO_FRONTAL, None, None),
    ("train", "GRDN0002_A4", [("AP", "good")], NAN, "Low lung volumes.", KEPT, ["frontal"], None),
    ("train", "GRDN0003_A5", [("PA", "good")], "", None, NO_TEXT, None, None),
    ("train", "GRDN0003_A6", [("PA", "missing")], "Clear.", "Normal.", MISSING_IMAGE, None, None),
    ("train", "GRDN0004_A7", [("PA", "good"), (None, "good")], "Sternotomy wires.", "Post-surgical change.", KEPT,
     ["frontal", "unknown"], None),
    ("train", "GRDN0004_A8", [("ANTERO_POSTERIOR", "corrupt")], "Lines in place.", "Stable.", KEPT, ["frontal"],
     UNREADABLE_IMAGE),
    ("train", "GRDN0005_A9", [("AP (KUB)", "good")], "Mild cardiomegaly.", "Cardiomegaly.", KEPT, ["frontal"], None),
    ("train", "GRDN0005_B1", [("OBLIQUE", "good")], "Rib fracture.", "Fracture.", NO_FRONTAL, None, None),
    ("valid", "GRDN0006_B2", [("UNKNOWN", "good")], "Clear lungs.", "No acute disease.", KEPT, ["unknown"], None),
    ("valid", "GRDN0006_B3", [], "Clear lungs.", "Normal.", NO_IMAGES, None, None),
    ("valid", "GRDN0001_A1", [("PA", "good")], "Again.", "Again.", DUPLICATE_STUDY, None, None),
    ("valid", "GRDN0007_B4", [("PA", "empty")], "Clear.", "Normal.", UNREADABLE_IMAGE, None, None),
    ("test", "GRDN0008_B5", [("PA", "good"), ("LATERAL", "good")], "Fläche unauffällig; heart normal.",
     "Normal — no change.", KEPT, ["frontal", "lateral"], None),
]
TEXT_FROM_CSV = "test"  # this split's JSON has no Findings / Impression: the CSV has them


def _entry(key: str, images: list[tuple[str | None, str]], findings, impression, split: str) -> dict:
    patient, accession = key.split("_")
    paths, views = [], []
    for number, (view, _) in enumerate(images):
        paths.append(f"../deid_png/{patient}/{accession}/studies/1.2.{number}/series/1.3.{number}/instances/"
                     f"1.4.{number}.png")
        if view is not None:
            views.append(view)
    entry = {"PatientID": patient, "AccessionNumber": accession, "StudyInstanceUid": f"1.2.840.{accession}",
             "PatientSex": "F", "PatientAge": "061Y", "StudyDate": "20200101", "Indication": "Cough.",
             "Comparison": "None.", "ImagePath": paths, "ImageViewPosition": views}
    if split != TEXT_FROM_CSV:
        entry.update({"Findings": findings, "Impression": impression})
    return entry


def build(root: Path) -> LookAlike:
    root = Path(root)
    look = LookAlike(root)
    files: dict[str, dict] = {}
    csv_rows: dict[str, list] = {}
    for index, (split, key, images, findings, impression, outcome, views, on_validate) in enumerate(CASES):
        entry = _entry(key, images, findings, impression, split)
        files.setdefault(split, {})[key] = entry
        csv_rows.setdefault(split, []).append([key, entry["PatientID"], "" if findings is None else findings,
                                               "" if impression is None else impression])
        for number, ((_, kind), path) in enumerate(zip(images, entry["ImagePath"])):
            if kind != "missing" and outcome != DUPLICATE_STUDY:
                write_image(root / "metadata" / path, index * 10 + number, kind)
        if outcome == DUPLICATE_STUDY:
            look.unnamed_drops[DUPLICATE_STUDY] = look.unnamed_drops.get(DUPLICATE_STUDY, 0) + 1
        else:
            clean = lambda text: "" if text is None or text != text else text  # noqa: E731 (NaN != NaN)
            look.studies[f"rexgradient-{key}"] = Expected(outcome, "val" if split == "valid" else split,
                                                          clean(findings), clean(impression), views, on_validate)
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    for split, entries in files.items():
        # json.dumps writes NaN for float('nan'), as pandas-made metadata files do
        (root / "metadata" / f"{split}_metadata_view_position.json").write_text(json.dumps(entries, indent=1))
        write_csv(root / "metadata" / f"{split}_metadata.csv", ["id", "PatientID", "Findings", "Impression"],
                  [["" if isinstance(v, float) else v for v in row] for row in csv_rows[split]])
    return look
