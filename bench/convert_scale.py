"""Conversion throughput and memory on a synthetic MIMIC-CXR-JPG-shaped folder of N studies.

    python bench/convert_scale.py --studies 20000 [--work DIR]

Writes N studies (a PA and a lateral "image" of a few bytes each - nothing is decoded without
--validate - and a short report per study), converts them, kills nothing; prints studies/s of the
conversion and the peak resident memory of this process. The numbers in docs/data.md come from it.
"""

from __future__ import annotations

import argparse
import gzip
import resource
import tempfile
import time
from pathlib import Path

from echo_cxr.data.config import ConvertConfig
from echo_cxr.data.convert import convert

REPORT = " FINDINGS: Heart size normal. Lungs clear. No effusion.\n IMPRESSION: No acute process.\n"
KIB = 1024


def write_folder(root: Path, studies: int) -> None:
    meta, split = ["dicom_id,subject_id,study_id,ViewPosition"], ["dicom_id,study_id,subject_id,split"]
    for index in range(studies):
        subject, study = f"{10000000 + index // 3}", f"{50000000 + index}"
        folder = root / f"files/p{subject[:2]}/p{subject}"
        (folder / f"s{study}").mkdir(parents=True, exist_ok=True)
        (folder / f"s{study}.txt").write_text(REPORT)
        for number, view in enumerate(("PA", "LATERAL")):
            dicom = f"{study}-{number}"
            (folder / f"s{study}" / f"{dicom}.jpg").write_bytes(b"\xff\xd8 placeholder")
            meta.append(f"{dicom},{subject},{study},{view}")
            split.append(f"{dicom},{study},{subject},{'test' if index % 50 == 0 else 'train'}")
    (root / "mimic-cxr-2.0.0-metadata.csv.gz").write_bytes(gzip.compress(("\n".join(meta) + "\n").encode()))
    (root / "mimic-cxr-2.0.0-split.csv.gz").write_bytes(gzip.compress(("\n".join(split) + "\n").encode()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=20000)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp())
    start = time.monotonic()
    write_folder(work / "raw", args.studies)
    print(f"wrote {args.studies} studies in {time.monotonic() - start:.1f} s")
    start = time.monotonic()
    manifest = convert(ConvertConfig("mimic-cxr", str(work / "raw"), str(work / "out"), progress=False))
    seconds = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB
    print(f"converted {manifest['counts']['studies_read']} studies (kept {manifest['counts']['kept']}) in "
          f"{seconds:.1f} s: {manifest['counts']['studies_read'] / seconds:.0f} studies/s; peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
