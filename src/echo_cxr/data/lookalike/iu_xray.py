"""IU X-ray look-alikes: the OpenI XML + PNG download and the Kaggle CSV re-packaging
(layouts in echo_cxr.data.converters.iu_xray)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from echo_cxr.data.config import DEFAULT_SPLIT_FRACTIONS
from echo_cxr.data.converters.base import hash_split
from echo_cxr.data.lookalike.common import KEPT, Expected, LookAlike, write_csv, write_image
from echo_cxr.data.records import (
    MISSING_IMAGE, NO_FRONTAL, NO_IMAGES, NO_TEXT, REPORT_UNREADABLE, UNREADABLE_IMAGE,
)

# (uid, [(projection, kind)], findings, impression, outcome, views, validate outcome)
CSV_CASES = [
    ("1", [("Lateral", "good"), ("Frontal", "good")], "The cardiac silhouette and mediastinum size are within "
     "normal limits. There is no pulmonary edema.", "Normal chest x-XXXX.", KEPT, ["frontal", "lateral"], None),
    ("2", [("Frontal", "good")], "", "No acute pulmonary findings.", KEPT, ["frontal"], None),
    ("3", [("Lateral", "good")], "Clear lungs.", "Normal.", NO_FRONTAL, None, None),
    ("4", [("Frontal", "good")], "", "", NO_TEXT, None, None),
    ("5", [("Frontal", "missing"), ("Lateral", "good")], "Clear.", "Normal.", MISSING_IMAGE, None, None),
    ("6", [], "Clear.", "Normal.", NO_IMAGES, None, None),
    ("7", [("Frontal", "good")], "Heart size normal; XXXX-year-old, 30° kyphosis, naïve.", "No acute disease.", KEPT,
     ["frontal"], None),
    ("8", [("Frontal", "empty")], "Clear.", "Normal.", UNREADABLE_IMAGE, None, None),
    ("9", [("Frontal", "corrupt"), ("Lateral", "good")], "Borderline cardiomegaly.", "Cardiomegaly.", KEPT,
     ["frontal", "lateral"], UNREADABLE_IMAGE),
]
REPORTS_HEADER = ["uid", "MeSH", "Problems", "image", "indication", "comparison", "findings", "impression"]

# (uid, [image kind], [(label, text)], outcome, views, validate outcome); None text list = malformed file
XML_CASES = [
    ("1", ["good", "good"], [("COMPARISON", "None."), ("INDICATION", "Positive TB test"),
                             ("FINDINGS", "The lungs are clear. Heart size normal."), ("IMPRESSION", "Normal chest.")],
     KEPT, ["unknown", "unknown"], None),
    ("2", ["good"], [("FINDINGS", ""), ("IMPRESSION", "No active disease.")], KEPT, ["unknown"], None),
    ("3", ["good"], [("INDICATION", "Cough"), ("FINDINGS", ""), ("IMPRESSION", "")], NO_TEXT, None, None),
    ("4", ["missing"], [("FINDINGS", "Clear."), ("IMPRESSION", "Normal.")], MISSING_IMAGE, None, None),
    ("5", [], [("FINDINGS", "Clear."), ("IMPRESSION", "Normal.")], NO_IMAGES, None, None),
    ("6", ["good"], None, REPORT_UNREADABLE, None, None),
    ("7", ["good"], [("FINDINGS", "Café-au-lait, lungs clear & heart <normal>."),
                     ("FINDINGS", "Café-au-lait, lungs clear & heart <normal>."), ("IMPRESSION", "Négatif.")],
     KEPT, ["unknown"], None),
    ("8", ["empty"], [("FINDINGS", "Clear."), ("IMPRESSION", "Normal.")], UNREADABLE_IMAGE, None, None),
]


def _xml(uid: str, texts: list[tuple[str, str]], image_ids: list[str]) -> str:
    abstract = "".join(f'\n            <AbstractText Label="{label}">{escape(text)}</AbstractText>'
                       for label, text in texts)
    images = "".join(f'\n   <parentImage id="{image}">\n      <figureId>F{n + 1}</figureId>\n      <caption>Xray '
                     f'Chest PA and Lateral</caption>\n      <panel type="single">\n         <url>/hadoop/storage/'
                     f'radiology/extract/{image}.jpg</url>\n      </panel>\n   </parentImage>'
                     for n, image in enumerate(image_ids))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<eCitation>\n   <meta type="rr"/>\n   <uId id="CXR{uid}"/>\n'
            f'   <pmcId id="{uid}"/>\n   <docSource>CXR</docSource>\n   <IUXRId id="{uid}"/>\n'
            f'   <publisher>Indiana University</publisher>\n   <MedlineCitation Owner="Indiana University">\n'
            f'      <Article PubModel="Electronic">\n         <Abstract>{abstract}\n         </Abstract>\n'
            f'      </Article>\n   </MedlineCitation>\n   <MeSH>\n      <major>normal</major>\n   </MeSH>{images}\n'
            '</eCitation>\n')


def _expect(uid: str, outcome, findings, impression, views, on_validate) -> tuple[str, Expected]:
    study = f"iu-xray-{uid}"
    return study, Expected(outcome, hash_split(study, DEFAULT_SPLIT_FRACTIONS), findings, impression, views,
                           on_validate)


def build_csv(root: Path) -> LookAlike:
    look, reports, projections = LookAlike(root), [], []
    folder = root / "images" / "images_normalized"
    for index, (uid, images, findings, impression, outcome, views, on_validate) in enumerate(CSV_CASES):
        reports.append([uid, "normal", "normal", "Xray Chest PA and Lateral", "Cough.", "None.", findings, impression])
        for number, (projection, kind) in enumerate(images):
            name = f"{uid}_IM-{int(uid):04d}-{1001 + 1000 * number}.dcm.png"
            projections.append([uid, name, projection])
            if kind != "missing":
                write_image(folder / name, index * 10 + number, kind)
        key, expected = _expect(uid, outcome, findings, impression, views, on_validate)
        look.studies[key] = expected
    write_csv(root / "indiana_reports.csv", REPORTS_HEADER, reports)
    write_csv(root / "indiana_projections.csv", ["uid", "filename", "projection"], projections)
    return look


def build_xml(root: Path) -> LookAlike:
    look = LookAlike(root)
    (root / "ecgen-radiology").mkdir(parents=True, exist_ok=True)
    for index, (uid, kinds, texts, outcome, views, on_validate) in enumerate(XML_CASES):
        image_ids = [f"CXR{uid}_{number + 1}_IM-{int(uid):04d}-{3001 + 1000 * number}" for number in range(len(kinds))]
        for number, (image, kind) in enumerate(zip(image_ids, kinds)):
            if kind != "missing":
                write_image(root / "NLMCXR_png" / f"{image}.png", index * 10 + number, kind)
        path = root / "ecgen-radiology" / f"{uid}.xml"
        if texts is None:
            path.write_text('<?xml version="1.0"?>\n<eCitation><uId id="CXR6"/><Abstract><AbstractText', "utf-8")
            texts = []
        else:
            path.write_text(_xml(uid, texts, image_ids), encoding="utf-8")
        findings = next((t for label, t in texts if label == "FINDINGS"), None)
        impression = next((t for label, t in texts if label == "IMPRESSION"), None)
        key, expected = _expect(uid, outcome, findings, impression, views, on_validate)
        look.studies[key] = expected
    return look


def build(root: Path, layout: str = "csv") -> LookAlike:
    """``layout``: "csv" (Kaggle tables) or "xml" (OpenI download)."""
    root = Path(root)
    return build_csv(root) if layout == "csv" else build_xml(root)
