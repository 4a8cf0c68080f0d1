"""Every failure of the REST service as a JSON body ``{"error": {"code", "message"}}``.

Status codes: 400 bad_image (unreadable, corrupt or unusable image), 401 unauthorized, 404
not_found, 408 timeout (request time limit), 413 too_large (body, bytes or pixels per image,
images per request), 422 bad_options (options JSON, language, decoding settings, block length
not matching the model) and bad_request (malformed form), 429 queue_full, 500 internal (logged
with its traceback on the server, never sent to the client).
"""

from __future__ import annotations

import logging

from echo_cxr.errors import EchoError

LOG = logging.getLogger("echo_cxr.service")
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
              408: "timeout", 413: "too_large", 422: "bad_request", 429: "queue_full", 500: "internal"}


class ServiceError(Exception):
    """A request the service refuses: HTTP status, machine code and a one-line message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    @classmethod
    def from_echo(cls, err: EchoError, status: int, code: str) -> "ServiceError":
        """``EchoError`` -> ServiceError; limits and a full queue keep their own status."""
        from echo_cxr.apps.batcher import QueueFullError
        from echo_cxr.imaging.limits import LimitExceeded

        if isinstance(err, LimitExceeded):
            return cls(413, "too_large", str(err))
        if isinstance(err, QueueFullError):
            return cls(429, "queue_full", str(err))
        return cls(status, code, str(err))


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": " ".join(message.split())}}


def install_handlers(app) -> None:
    """Turn ServiceError, validation errors, HTTP errors and unexpected errors into JSON."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    @app.exception_handler(ServiceError)
    async def _service_error(request, exc: ServiceError):
        headers = {"Retry-After": "1"} if exc.status == 429 else None
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return JSONResponse(error_body("bad_request", f"{where}: {first.get('msg')}" if where else first.get("msg")),
                            status_code=422)

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc: HTTPException):
        code = HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal_error(request, exc: Exception):
        LOG.error("internal error on %s", request.url.path, exc_info=exc)
        return JSONResponse(error_body("internal", f"internal error ({type(exc).__name__}); see the server log"),
                            status_code=500)
