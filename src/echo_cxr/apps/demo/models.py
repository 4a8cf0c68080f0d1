"""The demo's models: loaded on first use, a few kept, one decode at a time per model."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

MAX_LOADED_MODELS = 2  # a 7B model takes ~30 GB in float32: keep few


@dataclass
class LoadedEntry:
    bundle: object
    lock: threading.Lock = field(default_factory=threading.Lock)  # one decode at a time per model


class ModelCache:
    """Models by spec (``load`` arguments fixed per demo), least recently used dropped first."""

    def __init__(self, load_kwargs: dict, capacity: int = MAX_LOADED_MODELS, preloaded: dict | None = None):
        self.load_kwargs, self.capacity = dict(load_kwargs), capacity
        self._entries: OrderedDict[str, LoadedEntry] = OrderedDict()
        self._lock = threading.Lock()
        for spec, bundle in (preloaded or {}).items():
            self._entries[spec] = LoadedEntry(bundle)

    def get(self, spec: str) -> LoadedEntry:
        """The loaded model for ``spec``, loading it if needed (``EchoError`` for a bad spec)."""
        from echo_cxr.model import load

        with self._lock:
            if spec in self._entries:
                self._entries.move_to_end(spec)
                return self._entries[spec]
            entry = LoadedEntry(load(spec, **self.load_kwargs))
            self._entries[spec] = entry
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
            return entry
