"""Tiny look-alike folders of each dataset's distributed layout, built in code (tests, the demo).

They hold no real data: small synthetic radiograph-like images and short made-up reports, laid
out the way MIMIC-CXR-JPG, CheXpert-Plus, ReXGradient-160K and IU X-ray ship (docs/data.md), with
the messy cases those releases contain (one section only, duplicated headings, lateral-only
studies, broken or missing image files, non-ASCII text). Each builder returns a ``LookAlike``
that says what a correct conversion must do with every study.
"""

from __future__ import annotations

from importlib import import_module

BUILDERS = {
    "mimic-cxr": "echo_cxr.data.lookalike.mimic:build",
    "chexpert-plus": "echo_cxr.data.lookalike.chexpert_plus:build",
    "rexgradient": "echo_cxr.data.lookalike.rexgradient:build",
    "iu-xray": "echo_cxr.data.lookalike.iu_xray:build",
}


def build_lookalike(dataset: str, root, **options):
    """Write the look-alike of ``dataset`` under ``root``; returns its ``LookAlike``."""
    module, _, attr = BUILDERS[dataset].partition(":")
    return getattr(import_module(module), attr)(root, **options)
