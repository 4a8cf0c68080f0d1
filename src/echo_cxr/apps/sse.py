"""Server-sent events of one streamed report: ``block`` per committed block, then ``report`` or
``error``. Block events travel from the batcher's worker thread to the event loop through
``call_soon_threadsafe``; the worker calls them before it resolves the request's future, so
every block event is queued before the final one."""

from __future__ import annotations

import asyncio
import json

from echo_cxr.apps.service_errors import ServiceError, error_body
from echo_cxr.apps.streaming import BlockText
from echo_cxr.errors import EchoError


def sse(event: str, data: dict) -> bytes:
    """One server-sent event (``event:`` line, one ``data:`` line of JSON, blank line)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode("utf-8")


def report_events(batcher, prepared, timeout_s: float, timeout_message: str):
    """Queue the request now (a full queue is refused before any event is sent) and return the
    async generator of its events (see module docstring)."""
    from echo_cxr.apps.service import submit

    loop = asyncio.get_running_loop()
    blocks: asyncio.Queue = asyncio.Queue()
    future = submit(batcher, prepared, lambda event: loop.call_soon_threadsafe(blocks.put_nowait, event))
    return _events(batcher.bundle, prepared, future, blocks, loop.time() + timeout_s, timeout_message)


async def _events(bundle, prepared, future, blocks: asyncio.Queue, deadline: float, timeout_message: str):
    loop = asyncio.get_running_loop()
    text = BlockText(bundle, prepared.config.max_new_tokens, prepared.config.ignore_eos)
    done = asyncio.wrap_future(future)
    try:
        while True:
            waiter = asyncio.ensure_future(blocks.get())
            finished, _ = await asyncio.wait({waiter, done}, timeout=max(deadline - loop.time(), 0),
                                             return_when=asyncio.FIRST_COMPLETED)
            if waiter in finished:
                yield _block(waiter.result(), text)
                continue
            waiter.cancel()
            if done not in finished:
                yield sse("error", error_body("timeout", timeout_message))
                return
            while not blocks.empty():
                yield _block(blocks.get_nowait(), text)
            yield _final(bundle, prepared, done)
            return
    finally:
        future.cancel()  # a client that went away: drop the request if it has not started


def _block(event, text: BlockText) -> bytes:
    delta = text.add(event.token_ids)
    return sse("block", {"block": event.block, "text": delta, "token_ids": event.token_ids, "final": event.final})


def _final(bundle, prepared, done: asyncio.Future) -> bytes:
    from echo_cxr.apps.service import record

    error = done.exception()
    if error is None:
        return sse("report", record(bundle, prepared, done.result()))
    if isinstance(error, EchoError):
        refused = ServiceError.from_echo(error, 422, "bad_options")
        return sse("error", error_body(refused.code, refused.message))
    from echo_cxr.apps.service_errors import LOG

    LOG.error("internal error while streaming a report", exc_info=error)
    return sse("error", error_body("internal", f"internal error ({type(error).__name__}); see the server log"))
