"""Phantom CXR studies to pick in the demo: synthetic radiographs with a known report.

Names come from the studies' labels (no rendering); the views are rendered and written as PNG
only when an example is picked, into a folder the demo owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEMO_PHANTOM_SEED = 2026  # the demo's fixed examples
DEFAULT_EXAMPLES = 6
PNG_BITS = 8
PNG_FAST_LEVEL = 1
MAX_NAME_FINDINGS = 2


@dataclass(frozen=True)
class PhantomExample:
    name: str
    index: int


def _describe(labels) -> str:
    if not labels:
        return "normal"
    names = [label["finding"].replace("_", " ") for label in labels]
    extra = f" +{len(names) - MAX_NAME_FINDINGS}" if len(names) > MAX_NAME_FINDINGS else ""
    return ", ".join(names[:MAX_NAME_FINDINGS]) + extra


def phantom_examples(count: int = DEFAULT_EXAMPLES, seed: int = DEMO_PHANTOM_SEED) -> list[PhantomExample]:
    """The first ``count`` studies of the demo's phantom, named by their findings."""
    from echo_cxr.phantom import generate_study

    examples = []
    for index in range(count):
        study = generate_study(seed, index, render=False)
        examples.append(PhantomExample(f"phantom #{index + 1}: {_describe(study.labels)}", index))
    return examples


def render_example(example: PhantomExample, folder: Path, seed: int = DEMO_PHANTOM_SEED) -> tuple[list[str], str]:
    """Write the example's views as PNG under ``folder``; returns (paths, its English reference report)."""
    from echo_cxr.phantom import generate_study
    from echo_cxr.phantom.io import write_png

    study = generate_study(seed, example.index)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for view, picture in study.views.items():
        path = folder / f"phantom_{seed}_{example.index}_{view}.png"
        if not path.is_file():
            write_png(path, picture, PNG_BITS, PNG_FAST_LEVEL)
        paths.append(str(path))
    return paths, study.reports["en"].text
