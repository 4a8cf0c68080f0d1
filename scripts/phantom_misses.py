"""Where a model misses Phantom findings: recall of each finding split by the study's number of
views and, for devices, by how many devices the study holds (docs/training.md, stage 3).

    .venv/bin/python scripts/phantom_misses.py RESULTS.jsonl [RESULTS.jsonl ...] [--findings a,b]

RESULTS.jsonl: `echo-cxr infer` output on Phantom data (its records carry the true `labels`); the
reports are read back with the same labeller `echo-cxr score --metrics phantom` uses.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from echo_cxr.phantom import label_report

DEVICES = ("endotracheal_tube", "nasogastric_tube", "central_venous_catheter", "pacemaker")


def misses(path: str, findings: tuple[str, ...]) -> tuple[Counter, Counter]:
    """(misses, support) keyed by (finding, views, devices in the study)."""
    missed, support = Counter(), Counter()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            truth = {label["finding"] for label in record.get("labels") or []}
            found = {label["finding"] for label in label_report(record.get("report") or "", record["language"])}
            devices = len(truth & set(DEVICES))
            for finding in truth & set(findings):
                key = (finding, len(record["images"]), devices)
                support[key] += 1
                missed[key] += finding not in found
    return missed, support


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--findings", default=",".join(DEVICES), help="comma-separated finding names")
    args = parser.parse_args()
    findings = tuple(args.findings.split(","))
    for path in args.results:
        missed, support = misses(path, findings)
        print(f"== {path}  (finding: missed/support by views x devices in the study)")
        for finding in findings:
            cells = [f"{views}v/{devices}d {missed[k]}/{support[k]}"
                     for k in sorted(k for k in support if k[0] == finding) for _, views, devices in [k]]
            print(f"  {finding:26s} {'  '.join(cells)}")


if __name__ == "__main__":
    main()
