"""The normalisation prompt: versioned text files in the package (``prompts/<version>/``).

Each version folder holds ``en.txt`` / ``zh.txt`` (the instruction, with ``{format}``,
``{findings}`` and ``{impression}`` slots) and ``feedback_en.txt`` / ``feedback_zh.txt`` (the
follow-up turn after a rejected rewrite, with a ``{problems}`` slot). The prompt id used in cache
keys is the version plus a hash of those files, so editing a prompt without renaming its
version still invalidates cached rewrites.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from echo_cxr.data.normalize.regions import FINDINGS_HEADER, IMPRESSION_HEADER, LABELS, REGIONS
from echo_cxr.errors import EchoError

DEFAULT_VERSION = "v1"
PROMPT_FILES = ("en.txt", "zh.txt", "feedback_en.txt", "feedback_zh.txt")
HASH_CHARS = 12
EMPTY_SECTION = {"en": "(none)", "zh": "（无）"}


@dataclass(frozen=True)
class Prompt:
    version: str
    texts: dict[str, str]  # file name -> text

    @property
    def prompt_id(self) -> str:
        digest = hashlib.sha256("\0".join(self.texts[name] for name in PROMPT_FILES).encode("utf-8"))
        return f"{self.version}:{digest.hexdigest()[:HASH_CHARS]}"

    def messages(self, findings: str, impression: str, language: str) -> list[dict]:
        """The first user turn for one report."""
        text = (self.texts[f"{language}.txt"].replace("{format}", format_block(language))
                .replace("{findings}", findings or EMPTY_SECTION[language])
                .replace("{impression}", impression or EMPTY_SECTION[language]))
        return [{"role": "user", "content": text}]

    def retry(self, messages: list[dict], answer: str, problems: list[str], language: str) -> list[dict]:
        """The conversation continued after a rejected answer: the answer, then what was wrong."""
        feedback = self.texts[f"feedback_{language}.txt"].strip().replace("{problems}", "; ".join(problems))
        return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": feedback}]


def format_block(language: str) -> str:
    """The labelled lines the rewrite must follow (labels from ``regions.LABELS``)."""
    labels = LABELS[language]
    colon = "：" if language == "zh" else ": "
    slot = "..." if language == "en" else "……"
    lines = [f"{labels[FINDINGS_HEADER][0]}{colon.strip()}"]
    lines += [f"{labels[region][0]}{colon}{slot}" for region in REGIONS]
    lines.append(f"{labels[IMPRESSION_HEADER][0]}{colon}{slot}")
    return "\n".join(lines)


@lru_cache(maxsize=4)
def load_prompt(version: str = DEFAULT_VERSION) -> Prompt:
    folder = resources.files("echo_cxr.data.normalize").joinpath("prompts").joinpath(version)
    try:
        texts = {name: folder.joinpath(name).read_text("utf-8") for name in PROMPT_FILES}
    except (FileNotFoundError, NotADirectoryError):
        raise EchoError(f"no normalisation prompt version {version!r} (prompts/{version}/ with "
                        f"{', '.join(PROMPT_FILES)})") from None
    return Prompt(version, texts)
