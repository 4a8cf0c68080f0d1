"""What people use echo-cxr through, beyond ``echo-cxr generate``: the Gradio demo, the REST
service with dynamic batching, batch generation and the load test. See docs/apps.md.

Importing this package is light: gradio, fastapi and uvicorn (the ``apps`` extra) are imported
only by the modules that need them (``demo``, ``service``, ``server``).

Modules::

    options    ReportOptions: per-request language, prompt, decoder and decoding settings
    studies    StudyInput, read_batch (release-schema JSON or folder), check_studies
    batch      report_lines (batched decoding -> records), jsonl_output (atomic JSON lines)
    batcher    DynamicBatcher: a queue and a worker that batches concurrent requests
    service    create_app: the FastAPI application (POST /v1/reports, SSE, /healthz, /v1/models)
    server     ServiceConfig, serve: uvicorn on localhost by default
    demo       build_demo / launch_demo: the Gradio demo
    loadtest   run_load: N requests at concurrency C against a loopback server
"""
