"""The REST service (FastAPI): reports for uploaded studies, batched dynamically.

    POST /v1/reports          multipart: images (1..max_images files: PNG, JPEG, DICOM) and an
                              optional ``options`` JSON object (``ReportOptions`` fields)
                              -> the ``echo-cxr generate --json`` object
    POST /v1/reports/stream   same input -> server-sent events: one ``block`` event per committed
                              block, then ``report`` (the same object) or ``error``
    GET  /v1/models           the served model and its decoding defaults
    GET  /healthz             liveness, queue length, batching counters (no API key needed)
    GET  /docs, /openapi.json the OpenAPI schema

Requests are validated (API key, body size, options, every image decoded) before they are
queued, so that each refusal is an immediate 4xx JSON error (``service_errors``); the decoding
itself runs on the ``DynamicBatcher``'s worker thread.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass

from fastapi import Depends, FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader

from echo_cxr import __version__
from echo_cxr.apps.options import ReportOptions
from echo_cxr.apps.schemas import ErrorBody, Health, ModelInfo, ModelList, ReportRecord
from echo_cxr.apps.service_errors import ServiceError, error_body, install_handlers
from echo_cxr.errors import EchoError
from echo_cxr.imaging.limits import byte_size

API_KEY_HEADER = "X-API-Key"
BEARER_PREFIX = "Bearer "
PROTECTED_PREFIX = "/v1/"
ERROR_RESPONSES = {status: {"model": ErrorBody} for status in (400, 401, 408, 413, 422, 429, 500)}
OPTIONS_HELP = ("JSON object of report options: " + ", ".join(ReportOptions.__dataclass_fields__)
                + ". Unset decoding settings come from the model.")


@dataclass
class Prepared:
    """A validated request, ready for the queue."""

    study: object
    config: object
    options: ReportOptions
    names: list[str]


def _given_key(headers) -> str | None:
    key = headers.get(API_KEY_HEADER.lower()) or headers.get(API_KEY_HEADER)
    auth = headers.get("authorization", "")
    return key or (auth[len(BEARER_PREFIX):] if auth.startswith(BEARER_PREFIX) else None)


class RequestGate:
    """ASGI middleware answering before the body is read: /v1/ requests need the API key (401),
    and a declared body over the limit is refused (413). Bodies without a declared length are
    counted as they arrive; going over the limit ends the request with 413 too."""

    def __init__(self, app, api_key: str | None, max_body_bytes: int):
        self.app, self.api_key, self.max_body_bytes = app, api_key, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(headers)
        if refusal is None:
            return await self.app(scope, self._counted(receive), send)
        await refusal(scope, receive, send)

    def _counted(self, receive):
        from starlette.exceptions import HTTPException

        seen = 0

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise HTTPException(413, f"request body is over the limit of {byte_size(self.max_body_bytes)}")
            return message

        return counted_receive

    def _refusal(self, headers: dict) -> JSONResponse | None:
        if self.api_key is not None:
            given = _given_key(headers)
            if given is None or not secrets.compare_digest(given.encode(), self.api_key.encode()):
                message = "missing API key" if given is None else "wrong API key"
                return JSONResponse(error_body("unauthorized", f"{message}: send it as {API_KEY_HEADER} or "
                                               "'Authorization: Bearer KEY'"), status_code=401,
                                    headers={"WWW-Authenticate": "Bearer"})
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return JSONResponse(error_body("too_large", f"request body of {byte_size(int(declared))} is over the "
                                           f"limit of {byte_size(self.max_body_bytes)}"), status_code=413)
        return None


def create_app(batcher, config) -> FastAPI:
    """The FastAPI app serving ``batcher.bundle`` under ``config`` (a ``ServiceConfig``)."""
    app = FastAPI(title="echo-cxr", version=__version__,
                  description="Chest X-ray reports by block-diffusion decoding (ECHO). "
                              "Not a medical device.")
    app.state.bundle, app.state.batcher, app.state.config = batcher.bundle, batcher, config
    install_handlers(app)
    app.add_middleware(RequestGate, api_key=config.api_key, max_body_bytes=config.max_body_bytes)
    key_doc = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Needed when the service has an API key.")
    secured = [Depends(key_doc)] if config.api_key else []

    @app.get("/healthz", response_model=Health)
    def healthz() -> dict:
        return {"status": "ok", "model": batcher.bundle.name, "queue_length": batcher.queue_length(),
                "batching": batcher.stats.as_dict()}

    @app.get("/v1/models", response_model=ModelList, dependencies=secured, responses=ERROR_RESPONSES)
    def models() -> dict:
        return {"object": "list", "data": [model_info(batcher.bundle)]}

    @app.post("/v1/reports", response_model=ReportRecord, dependencies=secured, responses=ERROR_RESPONSES)
    async def reports(images: list[UploadFile] = File(..., description="The study's views: PNG, JPEG or DICOM."),
                      options: str | None = Form(None, description=OPTIONS_HELP)) -> dict:
        prepared = await prepare(batcher.bundle, config, images, options)
        future = submit(batcher, prepared)
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), config.request_timeout_s)
        except asyncio.TimeoutError:
            future.cancel()
            raise ServiceError(408, "timeout", timeout_message(config)) from None
        except EchoError as err:
            raise ServiceError.from_echo(err, 422, "bad_options") from None
        return record(batcher.bundle, prepared, result)

    @app.post("/v1/reports/stream", dependencies=secured, responses=ERROR_RESPONSES | {
        200: {"content": {"text/event-stream": {}}, "description": "events: `block` per committed block "
              "({block, text, token_ids, final}), then `report` (ReportRecord) or `error` (ErrorBody)"}})
    async def reports_stream(images: list[UploadFile] = File(..., description="The study's views."),
                             options: str | None = Form(None, description=OPTIONS_HELP)):
        from echo_cxr.apps.sse import report_events

        prepared = await prepare(batcher.bundle, config, images, options)
        events = report_events(batcher, prepared, config.request_timeout_s, timeout_message(config))
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


def model_info(bundle) -> dict:
    defaults = bundle.defaults
    return ModelInfo(id=bundle.name, prediction=bundle.prediction, synthetic=bundle.synthetic,
                     trained_block_length=defaults.block_length if defaults.trained else None,
                     defaults=defaults.as_dict(), quantize=bundle.quantize).model_dump()


def timeout_message(config) -> str:
    return f"the report took longer than the request time limit of {config.request_timeout_s:g} s"


def parse_options(text: str | None, config) -> ReportOptions:
    try:
        data = json.loads(text) if text not in (None, "") else None
    except json.JSONDecodeError as err:
        raise ServiceError(422, "bad_options", f"options are not valid JSON: {err.msg} at column {err.colno}") from None
    try:
        options = ReportOptions.from_json(data)
    except EchoError as err:
        raise ServiceError(422, "bad_options", str(err)) from None
    if options.max_new_tokens > config.max_new_tokens:
        raise ServiceError(422, "bad_options", f"max_new_tokens {options.max_new_tokens} is over this service's "
                                               f"limit of {config.max_new_tokens}")
    return options


async def prepare(bundle, config, uploads: list[UploadFile], options_text: str | None) -> Prepared:
    """Options, image count and bytes, every image decoded, decoding settings resolved."""
    from echo_cxr.decoding import Study
    from echo_cxr.imaging import EncodedImage, load_study_images

    options = parse_options(options_text, config)
    limits = config.limits
    try:
        limits.check_count(len(uploads))
        sources = []
        for index, upload in enumerate(uploads):
            name = upload.filename or f"image{index + 1}"
            if upload.size is not None:
                limits.check_bytes(upload.size, name)
            sources.append(EncodedImage(await upload.read(), name))
        images = await run_in_threadpool(load_study_images, sources, limits)
    except EchoError as err:
        raise ServiceError.from_echo(err, 400, "bad_image") from None
    try:
        decode_config = options.decode_config(bundle)
        study = Study(images, language=options.language, prompt=options.prompt, seed=options.seed)
    except EchoError as err:
        raise ServiceError.from_echo(err, 422, "bad_options") from None
    return Prepared(study, decode_config, options, [s.name for s in sources])


def submit(batcher, prepared: Prepared, on_block=None):
    try:
        return batcher.submit(prepared.study, prepared.config, prepared.options.decoder, on_block)
    except EchoError as err:
        raise ServiceError.from_echo(err, 503, "unavailable") from None


def record(bundle, prepared: Prepared, result) -> dict:
    from echo_cxr.pipeline import report_record

    out = report_record(bundle, prepared.study, result, prepared.config, prepared.options.decoder)
    out["images"] = list(prepared.names)
    return out

