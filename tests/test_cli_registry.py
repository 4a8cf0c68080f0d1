"""The typer app registers its sub-commands once per process, however often ``main`` runs."""

import pytest

from echo_cxr.cli import app, main


def test_main_registers_each_command_once(capsys):
    for _ in range(3):
        with pytest.raises(SystemExit):
            main(["--help"])
    capsys.readouterr()
    names = [info.name or info.callback.__name__ for info in app.registered_commands]
    groups = [info.name for info in app.registered_groups]
    assert len(names) == len(set(names)) and len(groups) == len(set(groups))
