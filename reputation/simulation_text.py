"""The simulation's figures as data: each name, value and goal an English message (marked for
the catalogues) and the numbers it quotes, worded when shown. The printout, the HTML report and
README word them in English (`english`); "How reputation works" in its reader's language, the
numbers written as that language writes them (0.859 reads 0,859 in French). The summary a run
stores for that page keeps them as data (`Figure.data`), so that it reads in every language."""

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop, ngettext, override, pgettext

MEASURED = "—"  # the goal of a figure that is only measured

# How a number is written, in Python's format specification: "+" signs it, "," groups its
# thousands, ".N" gives N places, "f" writes it as it is and "%" as a percentage.
_FORM = re.compile(r"(?P<signed>\+?)(?P<grouped>,?)\.(?P<places>\d)(?P<kind>[f%])")


def localized(value, form: str = "") -> str:
    """`format(value, form)` as the active language writes numbers: 0.859 in ".3f" reads 0.859
    in English and 0,859 in French, 0.123 in "+.1%" +12.3% and +12,3 %. Without a form, an
    int as it is."""
    if not form:
        return str(number_format(value))
    spec = _FORM.fullmatch(form)
    if spec is None:
        raise ValueError(f"Not a number's form: {form!r}")
    places = int(spec["places"])
    if spec["kind"] == "%":
        value = value * 100
    # Rounded as Python rounds it (number_format cuts a float's places off), and signed apart:
    # the Decimal of the rounded digits is written with the language's separators.
    written = f"{value:+.{places}f}"
    sign = written[0] if spec["signed"] or written[0] == "-" else ""
    digits = number_format(Decimal(written[1:]), places, force_grouping=bool(spec["grouped"]))
    if spec["kind"] == "%":
        return gettext("{percent}%").format(percent=sign + digits)
    return sign + digits


@dataclass(frozen=True)
class Number:
    """A measured number and its form (`localized`)."""

    value: float
    form: str = ""

    def __str__(self) -> str:
        return localized(self.value, self.form)


@dataclass(frozen=True)
class Text:
    """An English message and the values it quotes: numbers (`Number`, ints) written and other
    texts worded in the active language when shown, strings as they are. With a plural,
    `params["count"]` chooses the form; a context tells one "none" from another."""

    message: str
    params: dict = field(default_factory=dict)
    plural: str = ""
    context: str = ""

    # Named after the calls they defer, which is also how makemessages finds their messages.
    @classmethod
    def ngettext(cls, singular: str, plural: str, *, count, **params) -> "Text":
        """A message whose noun follows `count`."""
        return cls(singular, {"count": count, **params}, plural)

    @classmethod
    def pgettext(cls, context: str, message: str, **params) -> "Text":
        return cls(message, params, context=context)

    def __str__(self) -> str:
        values = {key: _shown(value) for key, value in self.params.items()}
        if self.plural:
            count = self.params["count"]
            count = count.value if isinstance(count, Number) else count
            return ngettext(self.message, self.plural, abs(round(count))).format(**values)
        if self.context:
            return pgettext(self.context, self.message).format(**values)
        return gettext(self.message).format(**values)

    def data(self) -> dict:
        data = {"message": self.message}
        if self.plural:
            data["plural"] = self.plural
        if self.context:
            data["context"] = self.context
        if self.params:
            data["params"] = {key: _param_data(value) for key, value in self.params.items()}
        return data

    @classmethod
    def from_data(cls, data: dict) -> "Text":
        params = {key: _param(value) for key, value in data.get("params", {}).items()}
        return cls(data["message"], params, data.get("plural", ""), data.get("context", ""))


def text(message: str, /, **params) -> Text:
    """A message marked with gettext_noop, and its values: text(gettext_noop("{count} of
    {total}"), count=3, total=40)."""
    return Text(message, params)


def _shown(value) -> str:
    if isinstance(value, (Text, Number)):
        return str(value)
    return localized(value) if isinstance(value, int) else value


def _param_data(value):
    if isinstance(value, Text):
        return value.data()
    if isinstance(value, Number):
        return {"number": value.value, "form": value.form}
    return value


def _param(data):
    if not isinstance(data, dict):
        return data
    if "number" in data:
        return Number(data["number"], data.get("form", ""))
    return Text.from_data(data)


@dataclass(frozen=True)
class Figure:
    """One figure of a run: what it measures, its value, its goal (None: only measured) and
    whether the value reaches it."""

    name: Text
    value: Text
    goal: Text | None
    reached: bool

    def shown(self) -> tuple[str, str, str, bool]:
        """(name, value, goal, reached) in the active language."""
        goal = MEASURED if self.goal is None else str(self.goal)
        return str(self.name), str(self.value), goal, bool(self.reached)

    def data(self) -> dict:
        return {
            "name": self.name.data(),
            "value": self.value.data(),
            "goal": None if self.goal is None else self.goal.data(),
            "reached": bool(self.reached),
        }

    @classmethod
    def from_data(cls, data: dict) -> "Figure":
        goal = data.get("goal")
        return cls(
            Text.from_data(data["name"]),
            Text.from_data(data["value"]),
            None if goal is None else Text.from_data(goal),
            bool(data.get("reached")),
        )


def english(figures: list[Figure]) -> list[tuple[str, str, str, bool]]:
    """The figures as the printout, the HTML report and README quote them."""
    with override("en"):
        return [figure.shown() for figure in figures]


def in_english(text: Text) -> str:
    with override("en"):
        return str(text)


# --- Texts the figures share ---------------------------------------------------------------


def number(value, form: str = "") -> Text:
    """A number alone ("{number}" is no message of the catalogues: it stays as it is)."""
    return Text("{number}", {"number": Number(value, form) if form else value})


def of(count: int, total: int) -> Text:
    return text(gettext_noop("{count} of {total}"), count=count, total=total)


def share_of(share: float, form: str, count: int, total: int) -> Text:
    """A share and what it is of: "1.2% (3 of 250)"."""
    return text(
        gettext_noop("{share} ({count} of {total})"),
        share=Number(share, form),
        count=count,
        total=total,
    )


def shown_or_too_few(value: float, shown: Text) -> Text:
    """A figure, or why there is none: a run too small to measure it (NaN)."""
    return text(gettext_noop("too few to measure")) if math.isnan(value) else shown


def points(value) -> Text:
    """Reputation points, whole."""
    return Text.ngettext("{count} point", "{count} points", count=Number(float(value), ",.0f"))


def points_each(value: float) -> Text:
    """Reputation points to a tenth, an average; "none" when there is nothing to average."""
    if math.isnan(value):
        return Text.pgettext("simulation: no order to average", "none")
    return text(gettext_noop("{points} points"), points=Number(value, ",.1f"))


def money(cents: int, currency: str) -> Text:
    return text(
        gettext_noop("{amount} {currency}"), amount=Number(cents / 100, ",.2f"), currency=currency
    )


def at_most_percent(percent: int) -> Text:
    """A goal: "≤ 10 %"."""
    return text(gettext_noop("≤ {percent} %"), percent=percent)
