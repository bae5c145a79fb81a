# Django's Arabic formats ("3 مارس، 2027"). Arabic has no short month names, so short dates
# name the month in full, and Django names no date-and-time formats for Arabic (it would fall
# back to the English "N j, Y, P"): the time follows the date, on a 24-hour clock.
SHORT_DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y، H:i"
SHORT_DATETIME_FORMAT = "j F Y، H:i"
