# Django's Brazilian Portuguese formats ("3 de março de 2027"), with short dates that name the
# month: "3 de mar. de 2027" rather than "03/03/2027".
SHORT_DATE_FORMAT = r"j \d\e b. \d\e Y"
SHORT_DATETIME_FORMAT = r"j \d\e b. \d\e Y H:i"
