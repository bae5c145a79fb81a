# Django's Spanish formats ("3 de marzo de 2027"), with short dates that name the month as the
# pages' tables and lists read best: "3 mar 2027" rather than "03/03/2027".
SHORT_DATE_FORMAT = "j b Y"
SHORT_DATETIME_FORMAT = "j b Y, H:i"
