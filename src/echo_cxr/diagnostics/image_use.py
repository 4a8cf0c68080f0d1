"""Does a report model use its vision tokens? The same prompt with the study's own images, with a
blank image, and with another patient's images: if the findings do not follow the image, the
language model writes from its prior (issue 13, diagnosis).

For each of the first ``n`` samples, three decodes through the shared decoder: ``own`` (the study's
views), ``blank`` (one black view of the study's first view's size) and ``other`` (the views of the
next sample in the file, a different patient). Each report is read back by the Phantom labeler;
we report micro-F1 against the OWN study's truth for each condition, micro-F1 of ``other``
against the other study's truth, and the share of reports whose labels differ from ``own``.
"""

from __future__ import annotations

from dataclasses import dataclass

from echo_cxr.errors import EchoError

CONDITIONS = ("own", "blank", "other")


@dataclass(frozen=True)
class ImageUseConfig:
    model: str
    data: list[str]
    n: int = 100
    batch_size: int = 16
    max_new_tokens: int = 256
    decoder: str | None = None  # None: "ar" for next-token models, else blockwise


def _blank_like(path: str):
    from PIL import Image

    from echo_cxr.imaging import load_image

    return Image.new("RGB", load_image(path).size)


def _labels(bundle, studies, dcfg, decoder: str, batch: int) -> list[list[dict]]:
    from echo_cxr.decoding import generate
    from echo_cxr.phantom import label_report

    out = []
    for start in range(0, len(studies), batch):
        chunk = studies[start:start + batch]
        out += [label_report(r.text, s.language) for s, r in zip(chunk, generate(bundle, chunk, dcfg, decoder=decoder))]
    return out


def image_use(config: ImageUseConfig) -> dict:
    from echo_cxr.evaluation.data import read_datasets
    from echo_cxr.model import load
    from echo_cxr.model.inputs import Study
    from echo_cxr.phantom import clinical_scores
    from echo_cxr.pipeline import decode_config

    samples = [s for s in read_datasets(config.data) if s.labels is not None][: config.n + 1]
    if len(samples) < 2:
        raise EchoError("image-use needs at least two samples with Phantom labels")
    own, others = samples[:-1], samples[1:]
    bundle = load(config.model)
    decoder = config.decoder or ("ar" if bundle.prediction == "next_token" else "blockwise")
    dcfg = decode_config(bundle, decoder, max_new_tokens=config.max_new_tokens,
                         block_length=1 if decoder == "ar" else None)
    requests = {
        "own": [Study(list(s.images), language=s.language) for s in own],
        "blank": [Study([_blank_like(s.images[0])], language=s.language) for s in own],
        "other": [Study(list(o.images), language=s.language) for s, o in zip(own, others)],
    }
    read = {name: _labels(bundle, studies, dcfg, decoder, config.batch_size) for name, studies in requests.items()}
    truth = [s.labels for s in own]
    canon = lambda labels: sorted(l["finding"] for l in labels)
    result = {"model": config.model, "decoder": decoder, "samples": len(own), "conditions": {}}
    for name in CONDITIONS:
        result["conditions"][name] = {
            "micro_f1_vs_own_truth": clinical_scores(read[name], truth)["micro_f1"],
            "changed_vs_own": sum(canon(a) != canon(b) for a, b in zip(read[name], read["own"])) / len(own)}
    result["conditions"]["other"]["micro_f1_vs_other_truth"] = clinical_scores(read["other"], [o.labels for o in others])["micro_f1"]
    return result
