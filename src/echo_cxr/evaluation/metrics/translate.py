"""Optional ZH -> EN translation before RaTEScore / SemScore (the release translates Chinese
outputs and references with an LLM; METHOD.md section 6). Off by default. Backends, by name:

- ``openai``: any OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp server, a hosted
  API): ``POST {endpoint}/chat/completions`` with temperature 0; the API key, if any, is read from
  the environment variable named by ``api_key_env``. Standard library only.
- ``local``: a local causal LM (folder or hub id) through transformers, greedy decoding, with its
  chat template when it has one.

METHOD.md does not give the release's translation prompt; ``TRANSLATE_PROMPT`` is echo-cxr's.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from echo_cxr.errors import EchoError
from echo_cxr.evaluation.metrics.base import NotComputed

TRANSLATE_PROMPT = (
    "Translate the following Chinese chest X-ray report into English. Keep every finding, its location, "
    "size and certainty, and the Findings / Impression structure. Output only the English translation.\n\n{text}"
)
BACKEND_NONE = "none"
DEFAULT_MAX_NEW_TOKENS = 512
DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class TranslateConfig:
    """Which backend translates, with which model."""

    backend: str = BACKEND_NONE  # none | openai | local
    model: str | None = None  # openai: the served model name; local: folder or hub id
    endpoint: str | None = None  # openai: base URL, e.g. http://127.0.0.1:8000/v1
    api_key_env: str = "OPENAI_API_KEY"
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    timeout_s: float = DEFAULT_TIMEOUT_S
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.backend not in (BACKEND_NONE, *BACKENDS):
            raise EchoError(f"unknown translation backend {self.backend!r}; choose one of none, {', '.join(BACKENDS)}")
        if self.backend != BACKEND_NONE and not self.model:
            raise EchoError(f"translation backend {self.backend!r} needs --translate-model")
        if self.backend == "openai" and not self.endpoint:
            raise EchoError("translation backend 'openai' needs --translate-endpoint (e.g. http://127.0.0.1:8000/v1)")
        if self.max_new_tokens < 1:
            raise EchoError(f"translation max new tokens must be at least 1, got {self.max_new_tokens}")


def openai_backend(config: TranslateConfig) -> Callable[[str], str]:
    url = config.endpoint.rstrip("/") + "/chat/completions"
    key = os.environ.get(config.api_key_env)

    def translate(text: str) -> str:
        body = {"model": config.model, "temperature": 0, "max_tokens": config.max_new_tokens,
                "messages": [{"role": "user", "content": TRANSLATE_PROMPT.format(text=text)}]}
        request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {key}"} if key else {})})
        try:
            with urllib.request.urlopen(request, timeout=config.timeout_s) as response:
                reply = json.loads(response.read().decode("utf-8"))
            return reply["choices"][0]["message"]["content"].strip()
        except (urllib.error.URLError, OSError, ValueError, KeyError, IndexError, TypeError) as err:
            raise NotComputed(f"translation endpoint {url} failed: {err}") from None

    return translate


def local_backend(config: TranslateConfig) -> Callable[[str], str]:
    import torch

    from echo_cxr.evaluation.metrics.hf import load_pretrained

    tokenizer, model = load_pretrained("AutoModelForCausalLM", config.model, config.device)

    def translate(text: str) -> str:
        prompt = TRANSLATE_PROMPT.format(text=text)
        if getattr(tokenizer, "chat_template", None):
            prompt = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                                   add_generation_prompt=True, tokenize=False)
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(config.device)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=config.max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()

    return translate


BACKENDS: dict[str, Callable[[TranslateConfig], Callable[[str], str]]] = {
    "openai": openai_backend,
    "local": local_backend,
}


def translate_texts(texts: Sequence[str], config: TranslateConfig) -> list[str]:
    """English translations of ``texts`` (each distinct text once; empty stays empty)."""
    translate = BACKENDS[config.backend](config)
    done: dict[str, str] = {"": ""}
    for text in texts:
        if text not in done:
            done[text] = translate(text)
    return [done[text] for text in texts]
