"""The default end-of-course survey, in English, Russian and Azerbaijani.

A coordinator copies it into a cohort's survey (in the language chosen, by default the
cohort's) and edits the copy there; the template itself never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainingmgr.evaluations.models import QuestionKind


@dataclass(frozen=True)
class TemplateQuestion:
    kind: QuestionKind
    text: str
    options: tuple[str, ...] = ()
    required: bool = True


R, C, T = QuestionKind.RATING, QuestionKind.CHOICE, QuestionKind.TEXT

SURVEY_TEMPLATE: dict[str, tuple[TemplateQuestion, ...]] = {
    "en": (
        TemplateQuestion(R, "Overall, how satisfied are you with the course?"),
        TemplateQuestion(R, "How relevant was the content to your work?"),
        TemplateQuestion(R, "How would you rate the trainers?"),
        TemplateQuestion(
            R, "How would you rate the organisation of the course (venue, materials, schedule)?"
        ),
        TemplateQuestion(
            C,
            "Will you use what you learned in your work?",
            ("Yes, often", "Sometimes", "Rarely", "No"),
        ),
        TemplateQuestion(
            C, "The length of the course was…", ("Too short", "About right", "Too long")
        ),
        TemplateQuestion(T, "What was most useful?", required=False),
        TemplateQuestion(T, "What should be improved?", required=False),
    ),
    "ru": (
        TemplateQuestion(R, "В целом, насколько вы удовлетворены курсом?"),
        TemplateQuestion(R, "Насколько содержание курса соответствует вашей работе?"),
        TemplateQuestion(R, "Как вы оцениваете работу тренеров?"),
        TemplateQuestion(
            R,
            "Как вы оцениваете организацию курса (место проведения, материалы, расписание)?",
        ),
        TemplateQuestion(
            C,
            "Будете ли вы применять полученные знания в своей работе?",
            ("Да, часто", "Иногда", "Редко", "Нет"),
        ),
        TemplateQuestion(
            C,
            "Продолжительность курса была…",
            ("Слишком короткой", "В самый раз", "Слишком длинной"),
        ),
        TemplateQuestion(T, "Что было наиболее полезным?", required=False),
        TemplateQuestion(T, "Что следует улучшить?", required=False),
    ),
    "az": (
        TemplateQuestion(R, "Ümumilikdə kursdan nə dərəcədə razısınız?"),
        TemplateQuestion(R, "Kursun məzmunu işinizə nə dərəcədə uyğun idi?"),
        TemplateQuestion(R, "Təlimçiləri necə qiymətləndirirsiniz?"),
        TemplateQuestion(
            R, "Kursun təşkilini (məkan, materiallar, cədvəl) necə qiymətləndirirsiniz?"
        ),
        TemplateQuestion(
            C,
            "Öyrəndiklərinizi işinizdə tətbiq edəcəksinizmi?",
            ("Bəli, tez-tez", "Bəzən", "Nadir hallarda", "Xeyr"),
        ),
        TemplateQuestion(C, "Kursun müddəti…", ("Çox qısa idi", "Tam uyğun idi", "Çox uzun idi")),
        TemplateQuestion(T, "Ən faydalı nə oldu?", required=False),
        TemplateQuestion(T, "Nəyi təkmilləşdirmək lazımdır?", required=False),
    ),
}

TEMPLATE_LANGUAGES = tuple(SURVEY_TEMPLATE)


def template_language(cohort_language: str) -> str:
    """The template for a cohort's language ("en+ru" takes its first, unknown ones English)."""
    first = (cohort_language or "en").split("+")[0]
    return first if first in SURVEY_TEMPLATE else "en"
