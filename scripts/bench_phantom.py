#!/usr/bin/env python
"""Benchmark of the Phantom CXR generator: studies per second, printed (not a test).

Two numbers:
1. render only: ``generate_study`` in this process (labels + EN/ZH reports + frontal view);
2. end to end: ``write_dataset`` with PNG files, JSON and manifest, ``--workers`` processes.
Lateral views are off (the issue's target: 10,000 studies in <= 2 minutes on 2 cores).

Usage: scripts/venv-run python scripts/bench_phantom.py [--n 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from echo_cxr.phantom import PhantomConfig, generate_study, write_dataset

RENDER_ONLY_STUDIES = 300
TARGET_STUDIES, TARGET_SECONDS = 10_000, 120.0


def _render_only(config: PhantomConfig, n: int) -> float:
    generate_study(0, 0, config)  # warm caches (noise tiles, vessel bank)
    start = time.perf_counter()
    for i in range(n):
        generate_study(1, i, config)
    return n / (time.perf_counter() - start)


def _end_to_end(config: PhantomConfig, n: int, workers: int, lang: str, out: Path) -> float:
    start = time.perf_counter()
    write_dataset(out, n, seed=1, lang=lang, config=config, workers=workers,
                  splits={"bench": 1.0})
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=TARGET_STUDIES, help="studies written end to end")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=512)
    parser.add_argument("--lang", default="both")
    parser.add_argument("--out", type=Path, default=None, help="keep the data set here")
    args = parser.parse_args()
    config = PhantomConfig(image_size=args.image_size, lateral_prob=0.0)
    rate = _render_only(config, RENDER_ONLY_STUDIES)
    print(f"render only (1 process, {args.image_size} px, frontal): {rate:.1f} studies/s")
    tmp = Path(tempfile.mkdtemp(prefix="phantom-bench-")) if args.out is None else None
    out = args.out if args.out is not None else tmp / "ds"
    try:
        rate = _end_to_end(config, args.n, args.workers, args.lang, out)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    seconds = args.n / rate
    print(f"end to end ({args.n} studies, {args.workers} workers, PNG 8-bit, lang {args.lang}): "
          f"{rate:.1f} studies/s, {seconds:.1f} s")
    projected = TARGET_STUDIES / rate
    verdict = "meets" if projected <= TARGET_SECONDS else "misses"
    print(f"projected for {TARGET_STUDIES} studies: {projected:.1f} s ({verdict} the "
          f"{TARGET_SECONDS:.0f} s target)")


if __name__ == "__main__":
    main()
