"""Convert every look-alike layout (with and without --validate) and print the counts as a
markdown table: the numbers in docs/data.md come from `python scripts/lookalike_counts.py`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from echo_cxr.data.config import ConvertConfig
from echo_cxr.data.convert import convert
from echo_cxr.data.lookalike import build_lookalike
from echo_cxr.data.records import DROP_REASONS

LAYOUTS = [
    ("mimic-cxr", {}, "gz tables, reports beside the images"),
    ("mimic-cxr", {"gz": False, "nest": "physionet.org/files/mimic-cxr-jpg/2.1.0", "separate_reports": True},
     "PhysioNet download path, separate reports tree"),
    ("chexpert-plus", {}, "PNG/train/..."),
    ("chexpert-plus", {"png_folder": "PNG/PNG", "keep_split_folder": False}, "PNG/PNG/, no split folder"),
    ("rexgradient", {}, "metadata/ + deid_png/"),
    ("iu-xray", {"layout": "csv"}, "Kaggle CSV re-packaging"),
    ("iu-xray", {"layout": "xml"}, "OpenI XML + NLMCXR_png"),
]
SHORT = {"no_findings_no_impression": "no text", "report_missing": "no report", "report_unreadable": "bad report",
         "no_images_listed": "no images", "missing_image": "missing img", "unreadable_image": "bad img",
         "no_frontal_view": "no frontal", "duplicate_study": "duplicate", "no_split": "no split"}


def main() -> None:
    header = ["dataset", "layout", "validate", "read", "kept", *[SHORT[r] for r in DROP_REASONS], "train/val/test"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for index, (dataset, options, label) in enumerate(LAYOUTS):
            root = Path(tmp) / f"{index}-raw"
            build_lookalike(dataset, root, **options)
            for validate in (False, True):
                out = Path(tmp) / f"{index}-{validate}"
                manifest = convert(ConvertConfig(dataset, str(root), str(out), validate=validate, progress=False))
                counts, splits = manifest["counts"], manifest["splits"]
                split_counts = "/".join(str(splits.get(s, {}).get("studies", 0)) for s in ("train", "val", "test"))
                row = [dataset, label, "yes" if validate else "no", counts["studies_read"], counts["kept"],
                       *[manifest["dropped"][r] for r in DROP_REASONS], split_counts]
                print("| " + " | ".join(str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
