"""A loopback OpenAI-compatible chat-completions server for tests and the demo (127.0.0.1 only).

It is not a language model: it reads the original report out of the normalisation prompt and
answers with a template rewrite - each original findings sentence under the region its keywords
point to, every other region stated as normal, the original impression - which passes the
checks. ``plan`` makes it misbehave on purpose, per report: a list of modes for the successive
requests about reports whose findings contain a marker string (``MODES``), so that tests can
have it answer, for one report, a rewrite missing a region, then a good one.

    python -m echo_cxr.data.normalize.loopback --port-file port.txt [--delay 0.1]
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from echo_cxr.data.normalize.regions import LABELS, REGIONS

HOST = "127.0.0.1"
ROUTE = "/v1/chat/completions"
CHARS_PER_TOKEN = 4  # the usage it reports is a character count / 4, not a tokenizer's
MODES = ("good", "missing_region", "swap_regions", "drop_finding", "invent_finding", "flip_negation", "swap_side",
         "wrong_language", "malformed", "bad_json", "no_choices", "http500", "http401", "timeout")
KEYWORDS = {
    "en": [("other", r"tube|line|catheter|pacemaker|device|wire|clip|port\b|stent"),
           ("heart", r"cardi|heart"), ("mediastinum", r"mediastin|trache|aort"), ("hila", r"hil(a|um|ar)"),
           ("diaphragm", r"effusion|costophrenic|diaphragm|pleura"), ("bones", r"fracture|rib|osseous|bon(e|y)|spine"),
           ("thorax", r"\bthora[xc]|chest wall")],
    "zh": [("other", r"管|导管|起搏器|装置"), ("heart", r"心"), ("mediastinum", r"纵隔|气管|主动脉"),
           ("hila", r"肺门"), ("diaphragm", r"积液|肋膈角|膈|胸膜"), ("bones", r"骨"), ("thorax", r"胸廓")],
}
NORMAL = {
    "en": {"thorax": "The thorax is symmetric.", "mediastinum": "The mediastinum is not widened and the trachea is "
           "midline.", "lungs": "The lung fields are clear.", "heart": "The cardiac silhouette is normal in size.",
           "hila": "The hila are normal.", "diaphragm": "The diaphragm is smooth and the costophrenic angles are sharp.",
           "bones": "The bony structures are intact.", "other": "None."},
    "zh": {"thorax": "胸廓对称。", "mediastinum": "纵隔居中，气管居中。", "lungs": "双肺野清晰。", "heart": "心影大小正常。",
           "hila": "双肺门未见异常。", "diaphragm": "双侧膈面光整，肋膈角锐利。", "bones": "骨性结构完整。", "other": "无。"},
}
NORMAL_IMPRESSION = {"en": "No acute cardiopulmonary abnormality.", "zh": "心肺未见异常。"}
INVENTED = {"en": "There is a large right pneumothorax.", "zh": "右侧大量气胸。"}
_SENTENCES = {"en": re.compile(r"(?<=[.;!?])\s+"), "zh": re.compile(r"(?<=[。；！？])")}
_ORIGINAL = {"en": re.compile(r"Original report:\s*Findings: (.*)\nImpression: (.*)", re.DOTALL),
             "zh": re.compile(r"原报告：\s*所见：(.*)\n结论：(.*)", re.DOTALL)}
_EMPTY = {"(none)", "（无）"}


def original_report(prompt: str) -> tuple[str, str, str]:
    """(language, findings, impression) read back out of a normalisation prompt."""
    for language, pattern in _ORIGINAL.items():
        found = pattern.search(prompt)
        if found:
            findings, impression = (part.strip() for part in found.groups())
            return language, "" if findings in _EMPTY else findings, "" if impression in _EMPTY else impression
    raise ValueError("not a normalisation prompt")


def _flip(sentence: str, language: str) -> str:
    if language == "zh":
        return sentence.replace("未见", "可见").replace("无", "有")
    flipped = re.sub(r"\b(no|without)\s+(evidence of\s+)?", "", sentence, flags=re.IGNORECASE)
    return flipped[:1].upper() + flipped[1:]


def _swap_side(sentence: str, language: str) -> str:
    pairs = ("右", "左") if language == "zh" else ("right", "left")
    marker = "\0"
    return sentence.replace(pairs[0], marker).replace(pairs[1], pairs[0]).replace(marker, pairs[1])


def template_rewrite(findings: str, impression: str, language: str, mode: str = "good") -> str:
    """A rewrite in the required format; ``mode`` spoils it in one of the ways the checks catch."""
    regions: dict[str, list[str]] = {region: [] for region in REGIONS}
    for sentence in filter(None, (s.strip() for s in _SENTENCES[language].split(findings))):
        if mode == "drop_finding":
            continue
        sentence = _flip(sentence, language) if mode == "flip_negation" else sentence
        sentence = _swap_side(sentence, language) if mode == "swap_side" else sentence
        region = next((r for r, pattern in KEYWORDS[language] if re.search(pattern, sentence, re.I)), "lungs")
        regions[region].append(sentence)
    if mode == "invent_finding":
        regions["lungs"].append(INVENTED[language])
    texts = {r: (" " if language == "en" else "").join(regions[r]) or NORMAL[language][r] for r in REGIONS}
    if mode == "wrong_language":
        language, texts = ("zh" if language == "en" else "en"), NORMAL["zh" if language == "en" else "en"]
    impression = NORMAL_IMPRESSION[language] if mode == "drop_finding" or not impression else impression
    colon = "：" if language == "zh" else ": "
    order = list(REGIONS)
    if mode == "swap_regions":
        order[2], order[3] = order[3], order[2]
    lines = [LABELS[language]["findings"][0] + colon.strip()]
    lines += [f"{LABELS[language][r][0]}{colon}{texts[r]}" for r in order if not (mode == "missing_region" and r == "hila")]
    lines.append(f"{LABELS[language]['impression'][0]}{colon}{impression}")
    return "\n".join(lines)


class LoopbackLLM:
    """The server: ``start()`` -> base URL; ``requests`` logs (findings, mode) of every request."""

    def __init__(self, plan: dict[str, list[str]] | None = None, delay_s: float = 0.0, timeout_sleep_s: float = 5.0):
        self.plan, self.delay_s, self.timeout_sleep_s = plan or {}, delay_s, timeout_sleep_s
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def mode_for(self, findings: str) -> str:
        with self.lock:
            asked = sum(1 for f, _ in self.requests if f == findings)
            modes = next((m for marker, m in self.plan.items() if marker in findings), ["good"])
            mode = modes[min(asked, len(modes) - 1)]
            self.requests.append((findings, mode))
        return mode

    def start(self, port: int = 0) -> str:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                return

            def do_POST(self):
                if self.path.rstrip("/") != ROUTE:
                    self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    return _send(self, 404, b'{"error": {"message": "not found"}}')
                llm.handle(self)

        self.server = ThreadingHTTPServer((HOST, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://{HOST}:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = json.loads(request.rfile.read(int(request.headers.get("Content-Length", 0))))
        first = body["messages"][0]["content"]
        language, findings, impression = original_report(first)
        mode = self.mode_for(findings)
        time.sleep(self.timeout_sleep_s if mode == "timeout" else self.delay_s)
        if mode == "http500":
            return _send(request, 500, b'{"error": {"message": "internal error"}}')
        if mode == "http401":
            return _send(request, 401, b'{"error": {"message": "invalid api key"}}')
        if mode == "bad_json":
            return _send(request, 200, b'{"choices": [{"message": {"content": "trunc')
        if mode == "no_choices":
            return _send(request, 200, json.dumps({"object": "chat.completion", "choices": []}).encode())
        text = "Sure! The report looks fine to me." if mode == "malformed" else template_rewrite(
            findings, impression, language, "good" if mode == "timeout" else mode)
        reply = {"id": "loopback", "object": "chat.completion", "model": body.get("model"),
                 "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                 "usage": {"prompt_tokens": sum(len(m["content"]) for m in body["messages"]) // CHARS_PER_TOKEN,
                           "completion_tokens": len(text) // CHARS_PER_TOKEN}}
        _send(request, 200, json.dumps(reply, ensure_ascii=False).encode("utf-8"))


def _send(request: BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
    try:
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
    except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback OpenAI-compatible server answering template rewrites.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, help="Write the chosen port here once listening.")
    parser.add_argument("--delay", type=float, default=0.0, help="Seconds before each answer.")
    parser.add_argument("--plan", default="{}", help='JSON {"marker": ["mode", ...]}; modes: ' + ", ".join(MODES))
    args = parser.parse_args(argv)
    llm = LoopbackLLM(json.loads(args.plan), args.delay)
    url = llm.start(args.port)
    if args.port_file:
        args.port_file.write_text(str(llm.server.server_address[1]))
    print(url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
