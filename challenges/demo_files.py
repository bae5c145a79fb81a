"""Small real artefacts for the demo (seed_demo): a rain gauge diagram drawn with Pillow, a CSV
of readings and a firmware sketch. Generated, not shipped, so the repository holds no binaries;
the drawings and the firmware come out the same bytes every time."""

import io
import math
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFont

INK = (23, 33, 43)
BRAND = (29, 78, 137)
WATER = (120, 170, 220)
MESH = (199, 125, 0)


def _font(size: int = 20):
    return ImageFont.load_default(size=size)


def rain_gauge_diagram(*, mesh: bool = False) -> bytes:
    """A tipping-bucket rain gauge in section: funnel, buckets, reed switch, wires to the
    board. With `mesh`, the leaf mesh over the funnel the school's electronics club added."""
    image = Image.new("RGB", (960, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.text((30, 24), "Tipping-bucket rain gauge (section)", fill=INK, font=_font(30))
    # Funnel and body
    draw.polygon([(260, 90), (500, 90), (400, 220), (360, 220)], outline=INK, width=4)
    draw.rectangle([(250, 220), (510, 520)], outline=INK, width=4)
    if mesh:
        for x in range(262, 500, 14):
            draw.line([(x, 84), (x + 10, 96)], fill=MESH, width=2)
        draw.line([(256, 84), (504, 84)], fill=MESH, width=3)
        draw.text((530, 76), "stainless leaf mesh, 2 mm", fill=MESH, font=_font())
    # Buckets on a pivot
    draw.polygon([(300, 300), (380, 340), (300, 360)], outline=BRAND, width=4)
    draw.polygon([(460, 300), (380, 340), (460, 360)], outline=BRAND, width=4)
    draw.polygon([(304, 320), (360, 336), (304, 354)], fill=WATER)
    draw.ellipse([(372, 332), (388, 348)], fill=INK)
    draw.text((270, 372), "0.2 mm per tip", fill=INK, font=_font())
    # Reed switch, magnet and cable to the board
    draw.rectangle([(370, 420), (392, 470)], fill=BRAND)
    draw.text((400, 440), "reed switch", fill=INK, font=_font())
    draw.line([(392, 445), (700, 445), (700, 300)], fill=INK, width=3)
    draw.rectangle([(640, 200), (900, 300)], outline=INK, width=4)
    draw.text((660, 220), "ESP32 board", fill=INK, font=_font())
    draw.text((660, 250), "pin 27, pull-up, 20 ms", fill=INK, font=_font())
    # Drips
    for i in range(5):
        y = 120 + i * 18
        draw.ellipse([(376, y), (384, y + 10)], fill=WATER)
    return _png(image)


def river_level_chart(rows: list[tuple[datetime, float]]) -> bytes:
    image = Image.new("RGB", (960, 420), "white")
    draw = ImageDraw.Draw(image)
    draw.text((30, 16), "Rain at the upper school, mm per hour", fill=INK, font=_font(26))
    left, top, width, height = 60, 60, 860, 300
    draw.rectangle([(left, top), (left + width, top + height)], outline=INK, width=2)
    peak = max(value for _, value in rows) or 1
    step = width / max(len(rows), 1)
    for i, (_, value) in enumerate(rows):
        bar = height * value / peak
        x = left + i * step
        draw.rectangle([(x + 2, top + height - bar), (x + step - 2, top + height)], fill=BRAND)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def rain_readings(start: datetime, hours: int = 48) -> list[tuple[datetime, float]]:
    """Hourly rain with one storm: plausible numbers, the same every time."""
    rows = []
    for hour in range(hours):
        storm = 9.0 * math.exp(-(((hour - 30) / 4.0) ** 2))
        drizzle = 0.4 * (1 + math.sin(hour / 3.0)) if 8 < hour < 20 else 0.0
        rows.append((start + timedelta(hours=hour), round(storm + drizzle, 1)))
    return rows


def readings_csv(rows: list[tuple[datetime, float]], *, station: str) -> bytes:
    lines = ["time_utc,station,rain_mm,bucket_tips"]
    lines += [f"{moment:%Y-%m-%dT%H:%M},{station},{mm},{round(mm / 0.2)}" for moment, mm in rows]
    return ("\n".join(lines) + "\n").encode()


FIRMWARE = """// Rain gauge firmware: counts bucket tips on a reed switch, reports every 10 minutes.
// Board: ESP32. Reed switch between pin 27 and ground (internal pull-up).
#include <WiFi.h>

const int REED_PIN = 27;
const float MM_PER_TIP = 0.2;
const unsigned long DEBOUNCE_MS = 20;
const unsigned long REPORT_MS = 10UL * 60UL * 1000UL;

volatile unsigned long tips = 0;
volatile unsigned long lastTip = 0;

void IRAM_ATTR onTip() {
  unsigned long now = millis();
  if (now - lastTip > DEBOUNCE_MS) {
    tips++;
    lastTip = now;
  }
}

void setup() {
  Serial.begin(115200);
  pinMode(REED_PIN, INPUT_PULLUP);
  attachInterrupt(digitalPinToInterrupt(REED_PIN), onTip, FALLING);
}

void loop() {
  static unsigned long lastReport = 0;
  if (millis() - lastReport >= REPORT_MS) {
    noInterrupts();
    unsigned long count = tips;
    tips = 0;
    interrupts();
    Serial.printf("rain_mm=%.1f tips=%lu\\n", count * MM_PER_TIP, count);
    lastReport = millis();
  }
}
"""


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def rain_gauge_files(start: datetime) -> list[SimpleUploadedFile]:
    rows = rain_readings(start)
    return [
        upload("rain-gauge-section.png", rain_gauge_diagram()),
        upload("readings-upper-school.csv", readings_csv(rows, station="upper-school")),
        upload("rain-chart.png", river_level_chart(rows)),
        upload("rain_gauge.ino", FIRMWARE.encode()),
    ]


RAIN_GAUGE_FILES_TEXT = """

## Drawings, data and firmware

![The gauge in section: funnel, buckets, reed switch, board](files/rain-gauge-section.png)

The first two gauges ran on the upper school's roof for two days in May:
[the readings](files/readings-upper-school.csv) (one line per hour, 0.2 mm per tip).

![Rain per hour at the upper school: drizzle, then a storm](files/rain-chart.png)

The [firmware](files/rain_gauge.ino) counts tips on an interrupt and reports every ten minutes.
"""
