"""Finding a dataset's files under the folder a user points at.

Downloads arrive nested in different ways (``physionet.org/files/mimic-cxr-jpg/2.1.0/``, ``PNG/PNG/``,
a Kaggle folder), so metadata files are searched by name a few levels down, without descending
into the image trees, and image references are resolved against a list of candidate bases and
spellings, remembering the one that worked last (so a 200k-image run does one ``stat`` per image).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from echo_cxr.errors import EchoError

SEARCH_DEPTH = 5
IMAGE_TREES = {"deid_png", "png", "images", "images_normalized", "nlmcxr_png", "jpg"}
GROUP_FOLDER = re.compile(r"^p\d\d$")  # files/p10/...: MIMIC-CXR's image and report tree
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm")


def find_files(root: Path, patterns: Sequence[str], depth: int = SEARCH_DEPTH) -> list[Path]:
    """Files under ``root`` whose name matches a pattern (case-insensitive), shallowest first.

    Image trees (``deid_png/``, ``PNG/`` ..., and a ``files/`` folder of ``pXX`` groups) are not
    searched: they hold hundreds of thousands of files and never the metadata. (PhysioNet's own
    download path, ``physionet.org/files/...``, is searched.)
    """
    found: list[tuple[int, str, Path]] = []
    lowered = [p.lower() for p in patterns]

    def walk(folder: Path, level: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            name = entry.name.lower()
            if entry.is_dir(follow_symlinks=True):
                if level < depth and not _image_tree(entry):
                    walk(Path(entry.path), level + 1)
            elif any(fnmatch.fnmatch(name, p) for p in lowered):
                found.append((level, entry.path, Path(entry.path)))

    walk(root, 0)
    return [path for _, _, path in sorted(found)]


def _image_tree(entry: os.DirEntry) -> bool:
    name = entry.name.lower()
    if name in IMAGE_TREES:
        return True
    if name != "files":
        return False
    try:
        with os.scandir(entry.path) as inner:
            return any(GROUP_FOLDER.match(e.name) for e in inner)
    except OSError:
        return False


def find_one(root: Path, patterns: Sequence[str], what: str) -> Path:
    """The shallowest file matching ``patterns``, or an error saying what was looked for."""
    found = find_files(root, patterns)
    if not found:
        raise EchoError(f"no {what} under {root} (looked for {', '.join(patterns)})")
    return found[0]


def check_root(root: Path) -> Path:
    if not root.is_dir():
        raise EchoError(f"dataset folder not found: {root}")
    return root.resolve()


def image_index(folders: Iterable[Path]) -> dict[str, Path]:
    """Image files under ``folders`` by lower-cased file name and by stem without image suffixes
    (``CXR1_1_IM-0001-3001``, ``1_IM-0001-4001.dcm.png`` -> also ``1_IM-0001-4001``); for datasets
    that name images by id (IU X-ray, a few thousand files)."""
    index: dict[str, Path] = {}
    for folder in folders:
        for dirpath, _, names in os.walk(folder):
            for name in sorted(names):
                lowered = name.lower()
                if not lowered.endswith(IMAGE_SUFFIXES):
                    continue
                path = Path(dirpath) / name
                index.setdefault(lowered, path)
                index.setdefault(strip_image_suffixes(lowered), path)
    return index


def strip_image_suffixes(name: str) -> str:
    """``x.dcm.png`` -> ``x``; ``x.jpg`` -> ``x``."""
    while True:
        stem, dot, suffix = name.rpartition(".")
        if not dot or f".{suffix.lower()}" not in IMAGE_SUFFIXES:
            return name
        name = stem


class PathResolver:
    """Resolve relative image references against candidate bases and spellings.

    ``spellings(ref)`` yields the relative paths to try for one reference (e.g. with ``.jpg``
    changed to ``.png``, or a leading split folder removed); every (base, spelling index) pair is
    tried, the last successful pair first.
    """

    def __init__(self, bases: Sequence[Path], spellings=lambda ref: [ref]):
        self.bases = [b for i, b in enumerate(bases) if b not in bases[:i]]
        self.spellings = spellings
        self.last: tuple[int, int] | None = None

    def __call__(self, ref: str) -> Path | None:
        if os.path.isabs(ref) and os.path.isfile(ref):
            return Path(ref)
        variants = list(self.spellings(ref))
        pairs = [(b, s) for b in range(len(self.bases)) for s in range(len(variants))]
        if self.last in pairs:
            pairs.remove(self.last)
            pairs.insert(0, self.last)
        for b, s in pairs:
            path = self.bases[b] / variants[s]
            if path.is_file():
                self.last = (b, s)
                return path
        return None
