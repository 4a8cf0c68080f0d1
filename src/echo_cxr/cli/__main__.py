"""``python -m echo_cxr.cli``."""

from echo_cxr.cli import main

main()
