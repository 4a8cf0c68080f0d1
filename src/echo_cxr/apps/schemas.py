"""Response shapes of the REST service, for its OpenAPI schema (pydantic, via fastapi)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Records may grow fields (pipeline.report_record is the source of truth): pass them through.
OPEN = ConfigDict(extra="allow")


class ReportStats(BaseModel):
    model_config = OPEN

    new_tokens: int
    forward_passes: int = Field(description="Denoising forwards (AR: one per token).")
    tokens_per_forward: float
    prefill_seconds: float
    decode_seconds: float
    tokens_per_second: float
    kv_append_passes: int
    committed_tokens: int


class ReportRecord(BaseModel):
    """The object ``echo-cxr generate --json`` prints; ``images`` holds the uploaded file names."""

    model_config = OPEN

    report: str
    findings: str
    impression: str
    language: str
    model: str
    images: list[str]
    token_ids: list[int]
    finish_reason: str = Field(description="'eos' or 'length'.")
    decoder: str
    decoding: dict = Field(description="Decoding settings used (model defaults + request options).")
    stats: ReportStats


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable: bad_image, bad_options, too_large, unauthorized, "
                                  "timeout, queue_full, not_found, bad_request, internal.")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class ModelInfo(BaseModel):
    id: str
    prediction: str
    synthetic: bool = Field(description="Trained on Phantom CXR only: not for clinical use.")
    trained_block_length: int | None = Field(description="Block length the checkpoint was trained with.")
    defaults: dict
    quantize: str = Field("none", description="CPU format of the language model's linear layers "
                                              "(none = float32, int8, bf16), as --quantize auto resolved it.")


class ModelList(BaseModel):
    object: str = "list"
    data: list[ModelInfo]


class Health(BaseModel):
    status: str
    model: str
    queue_length: int
    batching: dict
