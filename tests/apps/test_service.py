"""The REST service on a real loopback port: the CLI's JSON object, server-sent events, dynamic
batching equal to one-at-a-time decoding, and every refusal as a 4xx JSON error."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx", reason="httpx is not installed (apps extra)")
pytest.importorskip("fastapi", reason="fastapi is not installed (apps extra)")

TIMEOUT_S = 120
SMALL = {"max_new_tokens": 10}


def upload(*paths, names=None):
    names = names or [Path(p).name for p in paths]
    return [("images", (name, Path(p).read_bytes())) for name, p in zip(names, paths)]


def post(url, paths, options=None, stream=False, **kwargs):
    data = {"options": json.dumps(options)} if options is not None else {}
    return httpx.post(f"{url}/v1/reports{'/stream' if stream else ''}", files=upload(*paths), data=data,
                      timeout=TIMEOUT_S, **kwargs)


def refused(response, status: int, code: str, message: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and message in body["error"]["message"], body
    assert "Traceback" not in response.text and "\n" not in body["error"]["message"]


def alone(tiny, images, language="en", seed=0, **settings) -> dict:
    from echo_cxr.decoding import Study
    from echo_cxr.pipeline import decode_config, generate_reports

    config = decode_config(tiny, "blockwise", **{**SMALL, **settings})
    return generate_reports(tiny, [Study(list(images), language=language, seed=seed)], config)[0]


@pytest.fixture(scope="module")
def service(tiny):
    from echo_cxr.apps.server import ServiceConfig, ServiceThread

    config = ServiceConfig(model="random:tiny", port=0, max_batch_size=5, batch_window_ms=1000)
    with ServiceThread(config, bundle=tiny) as running:
        yield running


@pytest.fixture(scope="module")
def guarded(tiny):
    """A service with an API key, small byte limits and a model trained with block length 8."""
    from echo_cxr.apps.server import ServiceConfig, ServiceThread
    from echo_cxr.model.bundle import ModelDefaults

    trained = replace(tiny, defaults=ModelDefaults(block_length=8, steps=1, trained=True))
    config = ServiceConfig(port=0, api_key="s3cret", max_images=1, max_image_bytes=20_000)
    with ServiceThread(config, bundle=trained) as running:
        yield running


def test_report_is_the_cli_json_object(capsys, service, files):
    from echo_cxr.cli import main

    views = [files["frontal.png"], files["view.dcm"]]
    served = post(service.url, views, SMALL).json()
    with pytest.raises(SystemExit):
        # the service was handed a float32 bundle; the CLI's default (--quantize auto) may pick int8
        main(["generate", *views, "--max-new-tokens", "10", "--quantize", "none", "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert set(served) == set(printed) and set(served["stats"]) == set(printed["stats"])
    for key in ("report", "findings", "impression", "language", "model", "token_ids", "finish_reason", "decoding"):
        assert served[key] == printed[key], key
    assert served["images"] == ["frontal.png", "view.dcm"]


def test_server_sent_events_one_per_block(service, tiny, files):
    response = post(service.url, [files["wide.png"]], {**SMALL, "block_length": 4}, stream=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [(part.split("\n")[0][len("event: "):], json.loads(part.split("\n")[1][len("data: "):]))
              for part in response.text.strip().split("\n\n")]
    blocks = [data for kind, data in events if kind == "block"]
    kind, report = events[-1]
    assert kind == "report" and report["token_ids"] == alone(tiny, [files["wide.png"]], block_length=4)["token_ids"]
    assert [b["block"] for b in blocks] == list(range(len(blocks))) and blocks[-1]["final"]
    assert "".join(b["text"] for b in blocks) == report["report"] and len(blocks) > 1


def test_concurrent_requests_are_batched_and_equal_one_at_a_time(service, tiny, files):
    requests = [  # (views, options): different images, view counts, languages and sampling seeds
        ([files["frontal.png"]], {**SMALL}),
        ([files["frontal.png"], files["lateral.png"]], {**SMALL}),
        ([files["view.dcm"]], {**SMALL, "language": "zh"}),
        ([files["view.jpg"]], {**SMALL, "temperature": 0.8, "seed": 7}),
        ([files["wide.png"]], {**SMALL, "temperature": 0.8, "seed": 9}),
        ([files["frontal.png"]], {**SMALL, "max_new_tokens": 6}),  # other settings: a batch of its own
    ]
    before = httpx.get(f"{service.url}/healthz").json()["batching"]
    with ThreadPoolExecutor(len(requests)) as pool:
        responses = list(pool.map(lambda r: post(service.url, *r), requests))
    after = httpx.get(f"{service.url}/healthz").json()["batching"]
    for (views, options), response in zip(requests, responses):
        assert response.status_code == 200, response.text
        settings = {k: v for k, v in options.items() if k not in ("language", "seed")}
        expected = alone(tiny, views, options.get("language", "en"), options.get("seed", 0), **settings)
        assert response.json()["token_ids"] == expected["token_ids"]
    assert after["requests"] - before["requests"] == len(requests)
    assert after["batches"] - before["batches"] < len(requests) and after["largest_batch"] >= 2


def test_models_health_and_openapi(service):
    models = httpx.get(f"{service.url}/v1/models").json()
    assert models["data"][0]["id"] == "random:tiny" and models["data"][0]["trained_block_length"] is None
    assert httpx.get(f"{service.url}/healthz").json()["status"] == "ok"
    schema = httpx.get(f"{service.url}/openapi.json").json()
    assert {"/v1/reports", "/v1/reports/stream", "/v1/models", "/healthz"} <= set(schema["paths"])
    assert "ReportRecord" in schema["components"]["schemas"] and "ErrorBody" in schema["components"]["schemas"]


@pytest.mark.parametrize("name, status", [("text.png", 400), ("truncated.png", 400), ("empty.png", 400),
                                          ("one_pixel.png", 400), ("bomb.png", 413), ("no_pixels.dcm", 400),
                                          ("multi_frame.dcm", 400), ("unknown_syntax.dcm", 400)])
def test_bad_images_are_4xx_json(service, files, bad_files, name, status):
    path, message = bad_files[name]
    refused(post(service.url, [files["frontal.png"], path], SMALL), status,
            "too_large" if status == 413 else "bad_image", message)


def test_bad_requests_and_options_are_4xx_json(service, files):
    good = [files["frontal.png"]]
    refused(post(service.url, good * 5, SMALL), 413, "too_large", "too many images for one study: 5 (at most 4)")
    refused(post(service.url, good, {"language": "fr"}), 422, "bad_options", "unknown language 'fr'")
    refused(post(service.url, good, {"max_new_tokens": 0}), 422, "bad_options", "at least 1, got 0")
    refused(post(service.url, good, {"max_new_tokens": -1}), 422, "bad_options", "at least 1, got -1")
    refused(post(service.url, good, {"max_new_tokens": 5000}), 422, "bad_options", "over this service's limit")
    refused(post(service.url, good, {"colour": "blue"}), 422, "bad_options", "unknown option 'colour'")
    refused(post(service.url, good, {"steps": "two"}), 422, "bad_options", "must be an integer")
    refused(httpx.post(f"{service.url}/v1/reports", data={"options": "{"}, files=upload(*good)), 422, "bad_options",
            "not valid JSON")
    refused(httpx.post(f"{service.url}/v1/reports", data={"options": "{}"}), 422, "bad_request", "images")
    refused(httpx.get(f"{service.url}/v1/nothing"), 404, "not_found")


def test_api_key_body_limit_and_block_length(guarded, files):
    url, key = guarded.url, {"X-API-Key": "s3cret"}
    refused(post(url, [files["frontal.png"]], SMALL), 401, "unauthorized", "missing API key")
    refused(post(url, [files["frontal.png"]], SMALL, headers={"X-API-Key": "guess"}), 401, "unauthorized", "wrong")
    refused(httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    assert httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert httpx.get(f"{url}/healthz").status_code == 200  # liveness needs no key
    refused(post(url, [files["frontal.png"]], {"block_length": 4}, headers=key), 422, "bad_options",
            "trained with block length 8")
    assert post(url, [files["frontal.png"]], SMALL, headers=key).json()["decoding"]["block_length"] == 8
    big = [("images", ("big.png", bytes(200_000)))]
    refused(httpx.post(f"{url}/v1/reports", files=big, headers=key), 413, "too_large", "request body")

    def chunked():  # no Content-Length: counted as it arrives
        yield b'--b\r\nContent-Disposition: form-data; name="images"; filename="a.png"\r\n\r\n'
        for _ in range(20):
            yield bytes(10_000)
        yield b"\r\n--b--\r\n"

    refused(httpx.post(f"{url}/v1/reports", content=chunked(), headers={**key, "content-type": "multipart/form-data; "
                                                                       "boundary=b"}), 413, "too_large")
    refused(post(url, [files["view.jpg"], files["view.jpg"]], SMALL, headers=key), 413, "too_large", "at most 1")


def test_request_time_limit_and_full_queue(monkeypatch, tiny, files):
    from echo_cxr.apps.batcher import DynamicBatcher
    from echo_cxr.apps.server import ServiceConfig, ServiceThread

    monkeypatch.setattr(DynamicBatcher, "start", lambda self: self)  # a stalled worker: nothing is decoded
    config = ServiceConfig(port=0, max_queue=1, request_timeout_s=1.5)
    with ServiceThread(config, bundle=tiny) as stalled:
        first: list = []
        waiting = threading.Thread(target=lambda: first.append(post(stalled.url, [files["frontal.png"]], SMALL)))
        waiting.start()
        for _ in range(100):
            if stalled.batcher.queue_length() == 1:
                break
            threading.Event().wait(0.02)
        refused(post(stalled.url, [files["frontal.png"]], SMALL), 429, "queue_full", "retry later")
        waiting.join()
        refused(first[0], 408, "timeout", "request time limit of 1.5 s")
        assert stalled.batcher.queue_length() == 0  # the timed-out request left the queue


def test_serve_with_a_bad_model_exits_2_with_one_line(capsys, tmp_path):
    from echo_cxr.cli import main

    with pytest.raises(SystemExit) as done:
        main(["serve", "--model", str(tmp_path / "nowhere"), "--port", "0"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.strip().splitlines()[-1].startswith("error: model")
    assert "Traceback" not in err
