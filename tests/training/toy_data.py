"""A toy release-schema data set: four report types whose images differ visibly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

REPORTS = [
    ("The lungs are clear. The heart is normal.", "No acute abnormality."),
    ("Moderate right pleural effusion.", "Right pleural effusion."),
    ("Left lower lobe consolidation.", "Pneumonia on the left."),
    ("Mild cardiomegaly.", "Cardiomegaly."),
]
TINY_SHAPE = [
    "scratch.hidden_size=64", "scratch.intermediate_size=128", "scratch.num_hidden_layers=2",
    "scratch.vision_depth=2", "scratch.vision_hidden_size=32", "scratch.vision_intermediate_size=64",
    "scratch.vision_heads=2", "scratch.mrope_section=2,3,3", "scratch.vocab_size=300", "scratch.max_pixels=3136",
]


def write_toy_data(folder: Path, count: int = 16, seed: int = 0) -> tuple[Path, Path]:
    """``count`` studies (train.json) and the first four again (val.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    items = []
    for index in range(count):
        findings, impression = REPORTS[index % len(REPORTS)]
        pixels = np.full((64, 64), 40 + 50 * (index % len(REPORTS)), dtype=np.uint8)
        pixels += (rng.random((64, 64)) * 30).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"img{index}.png")
        items.append({"sample_id": f"s{index}", "images": [f"img{index}.png"],
                      "ground_truth": {"findings": findings, "impression": impression}})
    (folder / "train.json").write_text(json.dumps(items))
    (folder / "val.json").write_text(json.dumps(items[: len(REPORTS)]))
    return folder / "train.json", folder / "val.json"
