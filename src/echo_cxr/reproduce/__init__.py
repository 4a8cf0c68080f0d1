"""The Phantom CXR reproduction of ECHO: every stage from data to the results document, resumable.

``python -m echo_cxr.reproduce --profile configs/reproduce/full.yaml --workdir W`` (what
``scripts/reproduce.sh`` runs). The mini profile is the same pipeline in minutes, run in CI.
"""
