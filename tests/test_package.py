"""Packaging promises: a light import, no optional heavy dependency pulled in."""

import subprocess
import sys

HEAVY = ("gradio", "fastapi", "uvicorn", "medspacy", "spacy", "torch", "transformers", "matplotlib")


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_import_echo_cxr_is_light():
    loaded = imported_after("import echo_cxr")
    assert not [name for name in HEAVY if name in loaded]


def test_cli_import_does_not_load_models_or_apps():
    loaded = imported_after("import echo_cxr.cli")
    assert not [name for name in HEAVY if name in loaded]


def test_decoder_import_does_not_load_optional_apps():
    loaded = imported_after("import echo_cxr.decoding, echo_cxr.model")
    assert not [name for name in ("gradio", "fastapi", "uvicorn", "medspacy", "spacy") if name in loaded]
