"""Language-model backends of the normaliser, chosen by name (STYLE rule 3).

- ``openai``: any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, llama.cpp server,
  Ollama, a hosted API) through ``httpx``: ``POST {endpoint}/chat/completions`` (an endpoint given
  with ``/chat/completions`` works too; one given without ``/v1`` that answers 404 is retried with
  ``/v1`` added, once). The API key, if
  any, is read from the environment variable ``api_key_env``. Timeouts, connection errors, HTTP
  429 / 5xx and malformed bodies raise a retryable ``TransportError``; other HTTP errors (a wrong
  model name, a bad key) a non-retryable one.
- ``transformers``: a local causal LM (folder or hub id), greedy unless a temperature is set,
  with its chat template when it has one.

Both return a ``Completion`` with the text and token counts; neither retries by itself (the
runner owns retries, backoff and bounded concurrency).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from echo_cxr.errors import EchoError

RETRYABLE_STATUS = (408, 409, 429)
NOT_FOUND = 404
COMPLETIONS_PATH = "/chat/completions"
VERSION_PATH = "/v1"
SERVER_ERROR = 500
SHOWN_BODY_CHARS = 200


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class TransportError(Exception):
    """The backend gave no usable answer (``retryable``: worth asking again)."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


def _content(reply) -> str:
    """choices[0].message.content as text (a string, or a list of text parts); a completions-style
    choices[0].text is accepted too."""
    choice = reply["choices"][0]
    content = choice["message"]["content"] if "message" in choice or "text" not in choice else choice["text"]
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str):
        raise TypeError("content is not text")
    return content


class OpenAIBackend:
    def __init__(self, config):
        import httpx

        if not config.endpoint:
            raise EchoError("backend 'openai' needs --endpoint (e.g. http://127.0.0.1:8000/v1)")
        key = os.environ.get(config.api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.config, self.httpx = config, httpx
        base = config.endpoint.rstrip("/")
        base = base[: -len(COMPLETIONS_PATH)] if base.endswith(COMPLETIONS_PATH) else base
        self.client = httpx.Client(base_url=base + "/", headers=headers, timeout=httpx.Timeout(config.timeout_s))
        self.path = COMPLETIONS_PATH.lstrip("/")
        self.can_add_version = not base.endswith(VERSION_PATH)  # ".../v1" left out of --endpoint
        self.model_id = f"openai:{config.model}"

    def complete(self, messages: list[dict]) -> Completion:
        body = {"model": self.config.model, "messages": messages, "temperature": self.config.temperature,
                "max_tokens": self.config.max_new_tokens}
        start = time.monotonic()
        response = self._post(body)
        if response.status_code == NOT_FOUND and self.can_add_version:
            self.path, self.can_add_version = VERSION_PATH.lstrip("/") + COMPLETIONS_PATH, False
            response = self._post(body)
        if response.status_code >= SERVER_ERROR or response.status_code in RETRYABLE_STATUS:
            raise TransportError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise TransportError(f"HTTP {response.status_code}: {response.text[:SHOWN_BODY_CHARS]}", retryable=False)
        try:
            reply = response.json()
            text = _content(reply)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise TransportError(f"malformed response: {response.text[:SHOWN_BODY_CHARS]!r}") from None
        usage = reply.get("usage") or {}
        return Completion(text, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0),
                          time.monotonic() - start)

    def _post(self, body: dict):
        try:
            return self.client.post(self.path, json=body)
        except self.httpx.TimeoutException:
            raise TransportError(f"timeout after {self.config.timeout_s:g} s") from None
        except self.httpx.HTTPError as err:
            raise TransportError(f"connection failed: {err}") from None

    def close(self) -> None:
        self.client.close()


class TransformersBackend:
    def __init__(self, config):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not config.model:
            raise EchoError("backend 'transformers' needs --model (a folder or hub id)")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(config.model)
            self.model = AutoModelForCausalLM.from_pretrained(config.model).to(config.device).eval()
        except OSError as err:
            raise EchoError(f"cannot load causal LM {config.model!r}: {err}") from None
        self.config, self.torch = config, torch
        self.model_id = f"transformers:{config.model}"

    def _prompt(self, messages: list[dict]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\n\nassistant:"

    def complete(self, messages: list[dict]) -> Completion:
        start = time.monotonic()
        ids = self.tokenizer(self._prompt(messages), return_tensors="pt", add_special_tokens=False)
        ids = {key: value.to(self.config.device) for key, value in ids.items()}
        sampling = {"do_sample": True, "temperature": self.config.temperature} if self.config.temperature > 0 else {
            "do_sample": False}
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        with self.torch.inference_mode():
            out = self.model.generate(**ids, max_new_tokens=self.config.max_new_tokens, pad_token_id=pad, **sampling)
        new = out[0, ids["input_ids"].shape[1]:]
        return Completion(self.tokenizer.decode(new, skip_special_tokens=True), int(ids["input_ids"].shape[1]),
                          int(new.shape[0]), time.monotonic() - start)

    def close(self) -> None:
        return None


BACKENDS = {"openai": OpenAIBackend, "transformers": TransformersBackend}
