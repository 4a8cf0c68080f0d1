"""``echo-cxr serve``: the REST service on uvicorn, localhost by default.

``ServiceConfig`` is the typed, validated setting of one service process (model, address,
batching, limits, API key). ``start_service`` loads the model, starts the batching worker and
returns the FastAPI app; ``serve`` runs it until interrupted; ``ServiceThread`` runs it on a
loopback port inside this process (tests, the load test).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field

from echo_cxr.apps.batcher import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_QUEUE, DEFAULT_WINDOW_S
from echo_cxr.errors import EchoError
from echo_cxr.imaging.limits import MAX_IMAGE_BYTES, MAX_IMAGES_PER_STUDY, MAX_SOURCE_PIXELS, ImageLimits

LOCALHOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_PORT = 65535
DEFAULT_REQUEST_TIMEOUT_S = 300.0  # a 7B model on CPU can take minutes per report
DEFAULT_MAX_NEW_TOKENS = 1024  # most new tokens one request may ask for
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # part headers and the options field, beyond the images
MILLISECONDS = 1000.0
STARTUP_TIMEOUT_S = 60.0
STARTUP_POLL_S = 0.05


@dataclass(frozen=True)
class ServiceConfig:
    """Everything one service process is set up with; validated on construction."""

    model: str | None = None  # None: pipeline.default_model()
    host: str = LOCALHOST
    port: int = DEFAULT_PORT
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_window_ms: float = DEFAULT_WINDOW_S * MILLISECONDS
    max_queue: int = DEFAULT_MAX_QUEUE
    max_images: int = MAX_IMAGES_PER_STUDY
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_source_pixels: int = MAX_SOURCE_PIXELS
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    api_key: str | None = field(default=None, repr=False)
    device: str = "cpu"
    dtype: str = "float32"
    seed: int = 0
    attention: str = "sdpa"
    max_pixels: int | None = None
    quantize: str = "auto"  # CPU linear-layer format (model/quantize.py); auto picks by CPU

    def __post_init__(self) -> None:
        if not 0 <= self.port <= MAX_PORT:
            raise EchoError(f"port must be between 0 and {MAX_PORT}, got {self.port}")
        for name in ("max_batch_size", "max_queue", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise EchoError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        if self.batch_window_ms < 0:
            raise EchoError(f"batch window must not be negative, got {self.batch_window_ms} ms")
        if self.request_timeout_s <= 0:
            raise EchoError(f"request timeout must be positive, got {self.request_timeout_s} s")
        if self.api_key is not None and not self.api_key.strip():
            raise EchoError("the API key must not be empty")
        if self.max_pixels is not None and self.max_pixels <= 0:
            raise EchoError(f"max pixels must be positive, got {self.max_pixels}")
        self.limits  # noqa: B018 - validates the image limits

    @property
    def limits(self) -> ImageLimits:
        return ImageLimits(max_images=self.max_images, max_source_pixels=self.max_source_pixels,
                           max_bytes=self.max_image_bytes)

    @property
    def max_body_bytes(self) -> int:
        """Largest request body: every image at its byte limit, plus the multipart overhead."""
        return self.max_images * self.max_image_bytes + MULTIPART_OVERHEAD_BYTES

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def start_service(config: ServiceConfig, bundle=None, notice=print):
    """Load the model (unless given), start the batching worker; returns (app, batcher)."""
    from echo_cxr.apps.batcher import DynamicBatcher
    from echo_cxr.apps.service import create_app

    if bundle is None:
        from echo_cxr.model import load
        from echo_cxr.pipeline import default_model

        spec = config.model
        if spec is None:
            spec, message = default_model()
            notice(message)
        bundle = load(spec, device=config.device, dtype=config.dtype, seed=config.seed,
                      attention=config.attention, max_pixels=config.max_pixels, quantize=config.quantize)
    batcher = DynamicBatcher(bundle, config.max_batch_size, config.batch_window_ms / MILLISECONDS,
                             config.max_queue).start()
    return create_app(batcher, config), batcher


def _uvicorn_server(app, log_level: str):
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=1))


def serve(config: ServiceConfig, notice=print) -> None:
    """Run the service in the foreground until interrupted (Ctrl-C)."""
    if not config.is_loopback and config.api_key is None:
        notice(f"warning: serving on {config.host} without an API key; anyone who can reach it may use it")
    app, batcher = start_service(config, notice=notice)
    sock = _bind(config.host, config.port)
    notice(f"echo-cxr service on http://{_url_host(config.host)}:{sock.getsockname()[1]} "
           f"(OpenAPI at /docs; model {app.state.bundle.name})")
    try:
        _uvicorn_server(app, "info").run(sockets=[sock])
    finally:
        batcher.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise EchoError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class ServiceThread:
    """The service on a free loopback port, in a background thread of this process."""

    def __init__(self, config: ServiceConfig, bundle=None, log_level: str = "warning"):
        if not config.is_loopback:
            raise EchoError("an in-process service listens on loopback only")
        self.app, self.batcher = start_service(config, bundle=bundle)
        self._sock = _bind(config.host, config.port)
        self.url = f"http://{_url_host(config.host)}:{self._sock.getsockname()[1]}"
        self._server = _uvicorn_server(self.app, log_level)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> "ServiceThread":
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(STARTUP_POLL_S)
        if not self._server.started:
            self.__exit__()
            raise EchoError("the service did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join()
        self.batcher.stop()
        self._sock.close()
