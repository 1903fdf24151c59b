"""Form helpers shared by every domain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import EmailField, Field, FieldList, FormField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

LINE_BREAK_MESSAGE = _l("Write this on one line: line breaks are not allowed here.")


class FlaskForm(_FlaskForm):
    """Flask-WTF's form, refusing line breaks in every single-line text field.

    A line break in a title or a name ends up in e-mail headers, file names, CSV cells and
    PDF lines; only text areas (``TextAreaField``) may hold several lines. Every form of the
    application derives from this class (``tests/test_forms.py`` checks it).
    """

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in single_line_fields(self):
            if isinstance(field.data, str) and ("\n" in field.data or "\r" in field.data):
                field.errors = [*field.errors, str(LINE_BREAK_MESSAGE)]
                valid = False
        return valid


def single_line_fields(form: Any) -> Iterator[Field]:
    """The text fields of ``form`` that take one line, in sub-forms and lists too."""
    for field in form:
        if isinstance(field, FormField):
            yield from single_line_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from single_line_fields(entry.form)
                elif isinstance(entry, StringField) and not isinstance(entry, TextAreaField):
                    yield entry
        elif isinstance(field, StringField) and not isinstance(field, TextAreaField):
            yield field


def email_field(required: Any, **kwargs: Any) -> EmailField:
    """A required e-mail address (``required``: the message when it is left empty), valid and
    at most 254 characters; ``kwargs`` go to the field (``render_kw``, ``filters``)."""
    return EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(required),
            Email(_l("Enter a valid e-mail address.")),
            Length(max=254),
        ],
        **kwargs,
    )


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Select or radio options from (value, label) pairs (WTForms 3.3's SelectChoice)."""
    return [SelectChoice(value, label) for value, label in pairs]


def grouped_options(groups: dict[str, list[tuple[Any, Any, str]]]) -> list[SelectChoice]:
    """Options in ``<optgroup>``s from (value, label, search text) triples; the search text
    (names folded and transliterated) lets a filter box match "petrov" to "Петров"."""
    return [
        SelectChoice(value, label, render_kw={"data-search": search}, optgroup=group)
        for group, items in groups.items()
        for value, label, search in items
    ]
