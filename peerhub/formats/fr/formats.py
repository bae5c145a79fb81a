# Django's French formats ("3 mars 2027"), with short dates that name the month: "3 mars 2027",
# "3 juil. 2027" rather than "03/07/2027"; a moment in full says when: "3 mars 2027 à 14:00".
DATETIME_FORMAT = "j F Y à H:i"
SHORT_DATE_FORMAT = "j N Y"
SHORT_DATETIME_FORMAT = "j N Y H:i"
