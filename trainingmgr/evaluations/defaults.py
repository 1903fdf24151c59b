"""The default end-of-course survey, in English, Russian and Azerbaijani, read from
``trainingmgr/data/survey_template.toml`` (each question in the three languages side by side).

A coordinator copies it into a cohort's survey (in the language chosen, by default the
cohort's) and edits the copy there; the template itself never changes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from trainingmgr.config import DATA_DIR
from trainingmgr.evaluations.models import QuestionKind

TEMPLATE_FILE = DATA_DIR / "survey_template.toml"
TEMPLATE_LANGUAGES = ("en", "ru", "az")


@dataclass(frozen=True)
class TemplateQuestion:
    kind: QuestionKind
    text: str
    options: tuple[str, ...] = ()
    required: bool = True


def _in(language: str, question: dict[str, Any]) -> TemplateQuestion:
    return TemplateQuestion(
        QuestionKind(question["kind"]),
        question[language],
        tuple(question.get("options", {}).get(language, ())),
        question.get("required", True),
    )


def _read() -> dict[str, tuple[TemplateQuestion, ...]]:
    with TEMPLATE_FILE.open("rb") as handle:
        questions = tomllib.load(handle)["question"]
    return {language: tuple(_in(language, q) for q in questions) for language in TEMPLATE_LANGUAGES}


SURVEY_TEMPLATE: dict[str, tuple[TemplateQuestion, ...]] = _read()


def template_language(cohort_language: str) -> str:
    """The template for a cohort's language ("en+ru" takes its first, unknown ones English)."""
    first = (cohort_language or "en").split("+")[0]
    return first if first in SURVEY_TEMPLATE else "en"
