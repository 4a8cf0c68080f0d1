"""A stopped reproduction runner stops its stage's process (reproduce/runner.py ``run_child``)."""

from __future__ import annotations

import os
import signal
import sys
import threading

import pytest

from echo_cxr.reproduce.runner import run_child


def test_exit_code_is_the_childs():
    assert run_child([sys.executable, "-c", "raise SystemExit(3)"]) == 3


def test_sigterm_to_the_runner_ends_the_child(tmp_path):
    pid_file = tmp_path / "pid"
    script = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"

    def stop_when_started():
        while not pid_file.exists() or not pid_file.read_text():
            threading.Event().wait(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_when_started, daemon=True).start()
    with pytest.raises(SystemExit) as stopped:
        run_child([sys.executable, "-c", script])
    assert stopped.value.code == 128 + signal.SIGTERM
    child = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # gone (and reaped by run_child)
        os.kill(child, 0)

