"""PeerHub's date formats per language (settings.FORMAT_MODULE_PATH), issue 22.

Templates and code name a format ({{ when|date:"SHORT_DATE_FORMAT" }}, formats.date_format(day,
"DATE_FORMAT")) instead of spelling one, so every reader sees dates written the way their
language writes them. A module here names only what PeerHub words differently from Django's own
formats for that language (django/conf/locale/<lang>/formats.py); Django's fill in the rest.

    DATE_FORMAT            3 March 2027             a day, in full
    SHORT_DATE_FORMAT      3 Mar 2027               a day in lists and tables
    DATETIME_FORMAT        3 March 2027, 14:00      a moment, in full
    SHORT_DATETIME_FORMAT  3 Mar 2027, 14:00        a moment in lists and tables
    YEAR_MONTH_FORMAT      March 2027
    MONTH_DAY_FORMAT       3 Mar
"""

from django.utils.translation import gettext_noop

# The month names the formats' "F" writes are Django's own messages (django.utils.dates). They
# are PeerHub's messages too, so that its catalogues word them where Django's reads wrong:
# Brazilian Portuguese writes months in lower case ("3 de março de 2027"), Django's catalogue
# capitalises them ("Março"). Every other language keeps Django's wording.
MONTHS = (
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
)
