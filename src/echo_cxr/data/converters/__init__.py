"""Dataset converters, chosen by name (STYLE rule 3); each module is imported only when used.

Every converter reads one dataset in its distributor's layout and yields ``SourceStudy`` objects
(``echo_cxr.data.records``); the engine (``echo_cxr.data.convert``) does the checks and writing.
"""

from __future__ import annotations

from importlib import import_module

CONVERTERS = {
    "mimic-cxr": "echo_cxr.data.converters.mimic:MimicCxr",
    "chexpert-plus": "echo_cxr.data.converters.chexpert_plus:ChexpertPlus",
    "rexgradient": "echo_cxr.data.converters.rexgradient:ReXGradient",
    "iu-xray": "echo_cxr.data.converters.iu_xray:IuXray",
}


def get_converter(name: str):
    """The converter class registered under ``name``."""
    module, _, attr = CONVERTERS[name].partition(":")
    return getattr(import_module(module), attr)
