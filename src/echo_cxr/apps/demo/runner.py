"""A report as a sequence of frames: what the demo shows while the one decoder works.

``stream_frames`` runs ``decoding.generate`` (one study) in a worker thread with step and block
callbacks, and yields ``Frame``s: the committed text so far, the current block's positions
(prompt tail, still masked, committed at this step, committed earlier) and live counters. The
last frame carries the ``DecodeResult``'s own text and stats, i.e. exactly what
``echo-cxr generate`` prints for the same study and settings.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from echo_cxr.apps.streaming import BlockText
from echo_cxr.errors import EchoError

CELL_PROMPT, CELL_MASKED, CELL_NEW, CELL_KEPT = "prompt", "masked", "new", "kept"
_DONE = object()


@dataclass(frozen=True)
class Cell:
    """One position of the block being denoised."""

    text: str
    kind: str  # CELL_PROMPT | CELL_MASKED | CELL_NEW (committed this step) | CELL_KEPT


@dataclass
class LiveStats:
    """Counters shown while decoding (METHOD.md section 3, speed metrics)."""

    forward_passes: int = 0
    committed_tokens: int = 0  # response positions committed, whole blocks
    new_tokens: int = 0  # tokens of the report so far (cut at EOS / budget)
    seconds: float = 0.0
    finished: bool = False

    @property
    def tokens_per_forward(self) -> float:
        return self.committed_tokens / self.forward_passes if self.forward_passes else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0

    @property
    def ar_forward_passes(self) -> int:
        """Forwards an autoregressive decoder needs for the same tokens, one per token: the tokens
        committed so far while running, the report's tokens at the end."""
        return self.new_tokens if self.finished else self.committed_tokens


@dataclass
class Frame:
    text: str  # committed report text so far (the final text on the last frame)
    block: list[Cell] = field(default_factory=list)  # the block being denoised (empty between blocks)
    block_index: int = -1
    stats: LiveStats = field(default_factory=LiveStats)
    done: bool = False
    record: dict | None = None  # the --json record, on the last frame


def _token_text(tokenizer, token: int) -> str:
    from echo_cxr.decoding.results import decode_text

    return decode_text(tokenizer, [token]) if token < len(tokenizer) else ""


def _cells(bundle, event) -> list[Cell]:
    cells = []
    for token, committed, generated in zip(event.tokens, event.committed, event.generated):
        if not generated:
            cells.append(Cell(_token_text(bundle.tokenizer, token), CELL_PROMPT))
        elif token == bundle.special.mask:
            cells.append(Cell("", CELL_MASKED))
        else:
            cells.append(Cell(_token_text(bundle.tokenizer, token), CELL_NEW if committed else CELL_KEPT))
    return cells


def _decode_in_thread(bundle, study, config, decoder, lock, events: queue.Queue) -> None:
    from echo_cxr.decoding import Callbacks
    from echo_cxr.pipeline import generate_reports

    def put(kind, event) -> None:  # stamped when produced: live rates stay true in slow motion
        events.put((kind, event, time.perf_counter()))

    callbacks = Callbacks(on_step=lambda e: put("step", e), on_block=lambda e: put("block", e))
    try:
        with lock:
            put("record", generate_reports(bundle, [study], config, decoder=decoder, callbacks=callbacks)[0])
    except Exception as err:  # noqa: BLE001 - shown in the demo, never a traceback in the page
        put("error", err)
    finally:
        put(_DONE, None)


def stream_frames(bundle, study, config, decoder: str = "blockwise", lock: threading.Lock | None = None,
                  min_interval_s: float = 0.0) -> Iterator[Frame]:
    """Frames of one report, at most one per ``min_interval_s`` (0: one per step or block)."""
    events: queue.Queue = queue.Queue()
    worker = threading.Thread(target=_decode_in_thread, daemon=True,
                              args=(bundle, study, config, decoder, lock or threading.Lock(), events))
    started = time.perf_counter()
    worker.start()
    text, stats = BlockText(bundle, config.max_new_tokens, config.ignore_eos), LiveStats()
    frame, shown_at = Frame(""), 0.0
    while True:
        kind, event, stamp = events.get()
        if kind is _DONE:
            break
        if kind == "error":
            raise event if isinstance(event, EchoError) else EchoError(f"decoding failed: {event}")
        if kind == "record":
            frame = _final_frame(event)
            continue
        stats.seconds = stamp - started
        if kind == "step":
            stats.forward_passes += 1
            stats.committed_tokens += sum(c and g for c, g in zip(event.committed, event.generated))
            frame = Frame(text.text, _cells(bundle, event), event.block, stats)
        else:
            if decoder == "ar":  # one token per forward, no step events
                stats.forward_passes += 1
                stats.committed_tokens += len(event.token_ids)
            text.add(event.token_ids)
            stats.new_tokens = len(text.ids)
            frame = Frame(text.text, [], event.block, stats)
        if stats.seconds - shown_at >= min_interval_s or events.empty():
            shown_at = stats.seconds
            yield _copy(frame)
    yield frame


def _copy(frame: Frame) -> Frame:
    stats = LiveStats(**{k: getattr(frame.stats, k) for k in LiveStats.__dataclass_fields__})
    return Frame(frame.text, list(frame.block), frame.block_index, stats, frame.done, frame.record)


def _final_frame(record: dict) -> Frame:
    final = record["stats"]
    stats = LiveStats(final["forward_passes"], final["committed_tokens"], final["new_tokens"],
                      final["decode_seconds"], finished=True)
    return Frame(record["report"], [], -1, stats, done=True, record=record)
