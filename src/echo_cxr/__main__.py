"""``python -m echo_cxr``: the CLI."""

from echo_cxr.cli import main

main()
