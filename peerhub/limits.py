"""The largest input PeerHub accepts, in one place (README.md, "Input limits").

Text limits count characters (code points, as Python's `len` and PostgreSQL's `char_length`
do). Models, forms and serializers all read them from here: a CharField carries its limit as
`max_length`, a TextField as `max_length` (so ModelForms and ModelSerializers check it) plus a
database CheckConstraint made by `length_check`. They are constants, not settings: the
constraints live in migrations, and a deployment that changed a number would silently disagree
with its own schema. Changing one means a migration.

The request-level caps (the body size: DATA_UPLOAD_MAX_MEMORY_SIZE) are Django settings in
peerhub/settings.py; the API's JSON nesting cap is JSON_DEPTH below."""

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# --- Members ----------------------------------------------------------------------------------
USERNAME = 150  # Django's own
DISPLAY_NAME = 80
BIO = 2_000
SKILLS = 300

# --- Challenges, proposals and solutions ------------------------------------------------------
TITLE = 160  # challenges, proposals, solutions, revisions, selection rounds
SUMMARY = 280  # a challenge's or a proposal's one line
CHALLENGE_TEXT = 20_000  # a challenge's or a proposal's problem, and its "why it matters"
CRITERION_NAME = 120
CRITERION_DESCRIPTION = 400
TAG = 50
SOLUTION_BODY = 100_000  # one revision's Markdown
REVISION_MESSAGE = 300
UPSTREAM_MESSAGE = 10_000
COMMENT = 10_000
DECISION_REASON = 2_000  # why a proposal or an upstream change was declined
SELECTION_SUMMARY = 10_000
SELECTION_REASON = 4_000  # why a solution was shortlisted, or won

# --- Reputation -------------------------------------------------------------------------------
REVIEW = 10_000

# --- Marketplace ------------------------------------------------------------------------------
OFFER_TITLE = 140  # also the order's snapshot of it
OFFER_DESCRIPTION = 20_000
ORDER_BRIEF = 10_000
ORDER_MESSAGE = 20_000  # messages and deliveries
DELIVERY_LINK = 1_000  # one link of a delivery (ten at most)
DISPUTE_REASON = 5_000  # posted into the thread as "Dispute: …", within ORDER_MESSAGE
ORDER_REVIEW = 5_000
PLAN_DESCRIPTION = 2_000

# --- The site (written by staff in the admin) -------------------------------------------------
VALUE_DESCRIPTION = 2_000
MANIFESTO_PREAMBLE = 10_000
MANIFESTO_BODY = 100_000

# --- Requests ---------------------------------------------------------------------------------
# The editor's preview renders any Markdown field: as long as the longest a member writes.
MARKDOWN_PREVIEW = 100_000
# Deepest nesting of arrays and objects in a JSON request body. PeerHub's own payloads are three
# levels deep; Python's json module fails with RecursionError somewhere past a thousand.
JSON_DEPTH = 64
# The integers a query parameter may name: what a 64-bit signed column holds.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# UTC offsets in use on Earth run from -12:00 to +14:00 (PostgreSQL refuses past ±15:59, with a
# DataError that would be a 500).
UTC_OFFSET_MIN_MINUTES, UTC_OFFSET_MAX_MINUTES = -12 * 60, 14 * 60


def length_check(field: str, limit: int, *, name: str) -> models.CheckConstraint:
    """The database's guarantee that a TextField holds at most `limit` characters."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=name,
        # Worded in the reader's language when shown (the same English for the migrations).
        violation_error_message=format_lazy(
            _("Keep it to {limit} characters."), limit=f"{limit:,}"
        ),
    )
