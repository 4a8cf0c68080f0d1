"""Default instructions and report formats of the ECHO release (METHOD.md sections 1 and 6), byte-exact."""

from __future__ import annotations

from echo_cxr.errors import EchoError

PROMPT_EN = "Review this chest X-ray and write a report. Use this format: Findings: {}, Impression: {}."
PROMPT_ZH = "这是一组胸部X光图像，请生成一份医学报告，包括所见和结论。以以下格式返回报告：所见：{} 结论：{}。"
PROMPTS = {"en": PROMPT_EN, "zh": PROMPT_ZH}
LANGUAGES = tuple(PROMPTS)

REFERENCE_EN = "Findings: {findings} Impression: {impression}."
REFERENCE_ZH = "所见：{findings} 结论：{impression}"
REFERENCE_FORMATS = {"en": REFERENCE_EN, "zh": REFERENCE_ZH}

# Release rule: Chinese when the share of CJK characters exceeds this fraction.
CJK_SHARE_THRESHOLD = 0.1
CJK_FIRST, CJK_LAST = "\u4e00", "\u9fff"

# Release image budget: width * height <= this many pixels.
MAX_PIXELS = 2_250_000


def default_prompt(language: str) -> str:
    """The release's instruction for ``language`` ('en' or 'zh')."""
    try:
        return PROMPTS[language]
    except KeyError:
        raise EchoError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}") from None


def detect_language(text: str) -> str:
    """'zh' when the CJK share of the text exceeds 0.1 (release rule), else 'en'."""
    if not text:
        return "en"
    cjk = sum(1 for ch in text if CJK_FIRST <= ch <= CJK_LAST)
    return "zh" if cjk / len(text) > CJK_SHARE_THRESHOLD else "en"


def format_reference(findings: str, impression: str, language: str) -> str:
    """Reference string used for scoring, in the release's format for ``language``."""
    if language not in REFERENCE_FORMATS:
        raise EchoError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    return REFERENCE_FORMATS[language].format(findings=findings, impression=impression)


TARGET_FORMATS = {"en": "Findings: {findings} Impression: {impression}", "zh": "所见：{findings} 结论：{impression}"}


def target_text(findings: str, impression: str, language: str) -> str:
    """The report as a model is trained to write it (the format the release prompt asks for)."""
    if language not in TARGET_FORMATS:
        raise EchoError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)}")
    return TARGET_FORMATS[language].format(findings=findings.strip(), impression=impression.strip())
