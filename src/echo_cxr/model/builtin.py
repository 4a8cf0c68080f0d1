"""Models shipped inside the package (``builtin:NAME``): the Phantom CXR ECHO block-8 one-step
model and its ECHO-Base block-8 teacher, trained by ``scripts/reproduce.sh`` (docs/results/phantom.md).

They were trained on synthetic phantoms only: every use of them says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from echo_cxr.errors import EchoError
from echo_cxr.model.checkpoint import SAVED_FILES

BUILTIN_PREFIX = "builtin:"
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "models"
# name -> the reproduction run it comes from
BUILTIN_RUNS = {"phantom-echo-blk8": "dcd_b8", "phantom-base-blk8": "rad_b8"}
DEFAULT_BUILTIN = "phantom-echo-blk8"
SYNTHETIC_NOTICE = (
    "note: the default model {name} was trained on synthetic Phantom CXR images only (docs/results/phantom.md); "
    "it is not for clinical use. Real weights come with --model (for example Midea-AIRC/ECHO_block8 when online)."
)
# files of a saved checkpoint that the package ships: all of them, remote code included, so that the
# release's own scripts (trust_remote_code=True) can use a shipped folder as it is
SHIPPED_FILES = SAVED_FILES


def available() -> list[str]:
    return sorted(name for name in BUILTIN_RUNS if (BUILTIN_DIR / name / "config.json").is_file())


def builtin_folder(spec: str) -> Path:
    """``builtin:NAME`` -> its folder inside the package; unknown or missing names are an error."""
    name = spec[len(BUILTIN_PREFIX):]
    if name not in BUILTIN_RUNS:
        raise EchoError(f"unknown built-in model {name!r}; known: {', '.join(BUILTIN_RUNS)}")
    folder = BUILTIN_DIR / name
    if not (folder / "config.json").is_file():
        raise EchoError(f"built-in model {name!r} is not installed in this copy of echo-cxr ({folder}); "
                        "scripts/reproduce.sh trains and installs it")
    return folder


def install(run_models: dict[str, Path]) -> list[Path]:
    """Copy trained checkpoints (name -> model folder) into the package."""
    written = []
    for name, source in run_models.items():
        target = BUILTIN_DIR / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for file in SHIPPED_FILES:
            if (source / file).is_file():
                shutil.copy2(source / file, target / file)
        written.append(target)
    return written
