"""Evaluation of report generation (METHOD.md section 6; issue 5): resumable batch inference,
lexical / release-compatible / clinical / model-based scores, and comparison tables.

Sub-modules: ``data`` (release-schema test sets), ``infer`` (batch inference), ``results``
(JSONL results files), ``scoring`` (aggregation), ``metrics`` (the metric registry), ``tables``.
Importing this package loads no model and no metric backend.
"""
