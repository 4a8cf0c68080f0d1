"""Loading a release-style folder (config.json with ``auto_map``) never asks to run its remote code and
never imports it, also when stdin is a terminal (transformers only prompts on a terminal)."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time

from tests.model.release_lookalike import SENTINEL, write_release_lookalike

PROMPT = b"Do you wish to run the custom code"
TIMEOUT_S = 180.0  # a cold start of torch + transformers on a busy 2-core machine
POLL_S = 0.5
TYPEAHEAD = b"y\n"


def run_in_terminal(argv: list[str], env: dict, timeout: float) -> tuple[int | None, bytes]:
    """Run ``argv`` with a pseudo-terminal as stdin/stdout/stderr; stop early at a remote-code prompt.
    Returns (exit code or None if it was killed, everything it printed)."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        os.execve(argv[0], argv, env)
    os.write(fd, TYPEAHEAD)  # a prompt would read this "y" and go on to import the code
    output = b""
    deadline = time.monotonic() + timeout
    closed = False
    try:
        while time.monotonic() < deadline and PROMPT not in output:
            ready, _, _ = select.select([fd], [], [], POLL_S)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal (it is exiting)
                chunk = b""
            if not chunk:
                closed = True
                break
            output += chunk
    finally:
        os.close(fd)
    if not closed:  # stopped at a prompt or timed out: end it
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return None, output
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


def test_release_folder_with_auto_map_loads_without_prompt_or_import(tiny_bundle, tmp_path):
    folder = write_release_lookalike(tiny_bundle, tmp_path / "ECHO_block8")
    code = f"from echo_cxr.model import load; load({str(folder)!r}); print('LOADED')"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_MODULES_CACHE=str(tmp_path / "modules"))
    exit_code, output = run_in_terminal([sys.executable, "-c", code], env, TIMEOUT_S)
    text = output.decode(errors="replace")
    assert PROMPT not in output, f"loading asked to run remote code:\n{text[-2000:]}"
    assert exit_code == 0 and "LOADED" in text, f"exit {exit_code}:\n{text[-2000:]}"
    assert not (folder / SENTINEL).exists(), "the folder's remote code was imported"
    assert not (tmp_path / "modules").exists() or not any((tmp_path / "modules").rglob("*.py")), \
        "transformers copied the folder's remote code into its modules cache"
