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


def test_unknown_until_fails_before_any_data_is_made(tmp_path, capsys):
    from echo_cxr.reproduce.__main__ import main

    argv = sys.argv
    sys.argv = ["reproduce", "--profile", "configs/reproduce/mini.yaml", "--workdir", str(tmp_path / "w"),
                "--until", "no_such_run"]
    try:
        with pytest.raises(SystemExit) as stop:
            main()
    finally:
        sys.argv = argv
    assert stop.value.code == 2
    assert "unknown run 'no_such_run'" in capsys.readouterr().err
    assert not (tmp_path / "w" / "data").exists()
