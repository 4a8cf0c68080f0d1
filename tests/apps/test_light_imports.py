"""The apps stay optional: importing echo_cxr, its CLI or echo_cxr.apps loads no web framework."""

from __future__ import annotations

import subprocess
import sys

WEB = ("gradio", "fastapi", "uvicorn", "starlette", "httpx", "selenium")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def test_apps_package_cli_and_imaging_are_light():
    loaded = loaded_after("import echo_cxr, echo_cxr.apps, echo_cxr.apps.options, echo_cxr.apps.batcher, "
                          "echo_cxr.apps.server, echo_cxr.apps.demo, echo_cxr.imaging, echo_cxr.cli; "
                          "echo_cxr.cli._register()")
    assert not [name for name in WEB if name in loaded]
    assert "torch" not in loaded and "PIL" not in loaded
