"""A report's text as it grows block by block, for every streaming caller (CLI ``--stream``, the
service's server-sent events, the demo).

Each ``BlockEvent`` carries the response ids committed in one block; the text is the decoded
prefix up to the first end-of-sequence token and the new-token budget, exactly as the final
``DecodeResult`` cuts it. ``add`` returns the new text since the previous block (empty while a
multi-byte character is still incomplete).
"""

from __future__ import annotations


class BlockText:
    """Accumulates one request's committed ids; ``text`` is what the report reads so far."""

    def __init__(self, bundle, limit: int, ignore_eos: bool = False):
        self.tokenizer = bundle.tokenizer
        self.eos = set() if ignore_eos else set(bundle.special.eos)
        self.limit = limit
        self.ids: list[int] = []
        self.text = ""
        self.ended = False

    def add(self, token_ids: list[int]) -> str:
        """Take one block's ids; return the text it adds."""
        from echo_cxr.decoding.results import decode_text

        for token in token_ids:
            if self.ended or token in self.eos or len(self.ids) >= self.limit:
                self.ended = True
                break
            self.ids.append(token)
        text = decode_text(self.tokenizer, self.ids)
        if not text.startswith(self.text):  # a character completed differently: no delta to give
            return ""
        delta, self.text = text[len(self.text):], text
        return delta
