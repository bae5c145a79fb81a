"""Input hygiene (peerhub.inputs, peerhub.middleware, peerhub.api.parsers, peerhub.api.filters):
NUL characters, JSON nesting, request size, UTC offsets, 64-bit integers and invisible
characters in names and titles."""

import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from challenges.forms import ChallengeForm
from challenges.models import Challenge, Solution
from peerhub import inputs, limits
from peerhub.api import fields, parsers
from peerhub.models import User
from tests.factories import ChallengeFactory, make_organiser, make_solution
from tests.helpers import assert_error

INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
]  # fmt: skip


# --- Invisible characters ----------------------------------------------------------------------


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_strip_invisible_removes_every_bidi_control_and_zero_width_character(char):
    assert inputs.strip_invisible(f"An{char}na{char}") == "Anna"


def test_strip_invisible_keeps_ordinary_text_of_every_script():
    text = "Zoë Ødegaard — مرحبا שלום 東京 👩🏽‍🔬"
    # U+200D joins the emoji: it goes, and the person becomes two emoji, which is the price.
    assert inputs.strip_invisible(text) == text.replace("\u200d", "")


class NameForm(forms.Form):
    name = inputs.PlainCharField(max_length=10)


class NameSerializer(serializers.Serializer):
    name = fields.PlainCharField(max_length=10)


def test_the_form_and_serializer_fields_strip_before_checking():
    name = "\u202eAda\u200b"
    form = NameForm({"name": name})
    serializer = NameSerializer(data={"name": name})
    assert form.is_valid() and serializer.is_valid()
    assert form.cleaned_data["name"] == serializer.validated_data["name"] == "Ada"


def test_a_name_of_nothing_but_invisible_characters_is_empty():
    assert NameForm({"name": "\u200b\u202e "}).errors["name"][0] == "This field is required."
    serializer = NameSerializer(data={"name": "\u200b\u202e"})
    assert not serializer.is_valid()
    assert serializer.errors["name"][0].code == "blank"


def test_the_length_is_counted_after_stripping():
    assert NameForm({"name": "abcdefghij" + "\u200b" * 5}).is_valid()


@pytest.mark.django_db
def test_display_names_are_stripped_by_the_profile_form_and_the_api(member_client):
    user = member_client.user
    member_client.post(
        "/settings/profile/", {"display_name": "\u202eAda Lovelace", "bio": "", "skills": ""}
    )
    user.refresh_from_db()
    assert user.display_name == "Ada Lovelace"

    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    response = api.patch("/api/me/", {"display_name": "Grace\u200b Hopper\u2066"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.display_name == "Grace Hopper"


@pytest.mark.django_db
def test_titles_are_stripped_by_the_forms_and_the_api(member_client):
    challenge = ChallengeFactory()
    member_client.post(
        f"/challenges/{challenge.slug}/solutions/new/",
        {"title": "\u202eFilter\u200b", "body": "Sand and charcoal.", "publish": "on"},
    )
    assert Solution.objects.get(challenge=challenge).title == "Filter"

    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_organiser())
    response = api.post(
        "/api/challenges/",
        {"title": "Clean\u2067 water\u200d", "summary": "For everyone."},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Challenge.objects.get(slug=response.json()["slug"]).title == "Clean water"


@pytest.mark.django_db
@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2066", "\ufeff"])
def test_a_username_with_invisible_characters_is_refused_at_sign_up(client, char):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "ada@example.org",
            "username": f"ada{char}lovelace",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "username" in response.context["form"].errors
    assert not User.objects.filter(email="ada@example.org").exists()


# --- NUL characters ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/search/?q=a%00b", "/challenges/?q=%00", "/u/ada%00/", "/api/search/?q=a%00b",
     "/api/users/a%00b/", "/api/challenges/?tag=x&search=%00"],
)  # fmt: skip
def test_a_nul_in_a_path_or_a_query_string_is_a_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert_error(response, 400, "nul_character")
    else:
        assert b"NUL characters are not allowed." in response.content


@pytest.mark.django_db
def test_a_nul_in_a_form_field_is_a_400_and_nothing_is_saved(member_client):
    user = member_client.user
    response = member_client.post(
        "/settings/profile/", {"display_name": "Ada", "bio": "a\x00b", "skills": ""}
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.bio == ""


@pytest.mark.django_db
def test_a_nul_in_a_multipart_field_is_a_400(member_client):
    response = member_client.post(
        "/settings/profile/", {"display_name": "A\x00da"}, format="multipart"
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    ['{"display_name": "a\\u0000b"}', '{"display_name": "ok", "x\\u0000": 1}',
     '{"display_name": ["deep", {"deeper": "\\u0000"}]}'],
)  # fmt: skip
def test_a_nul_anywhere_in_a_json_body_is_a_400(member_api_client, body):
    response = member_api_client.patch("/api/me/", body, content_type="application/json")
    assert_error(response, 400, "nul_character")


@pytest.mark.django_db
def test_a_nul_in_a_form_encoded_patch_is_a_400(member_api_client):
    response = member_api_client.patch(
        "/api/me/", "display_name=a%00b", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 400, "nul_character")


# --- JSON nesting and size -----------------------------------------------------------------------


def parse(body: bytes):
    return parsers.JSONParser().parse(io.BytesIO(body), "application/json", {})


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


def test_json_nested_to_the_cap_is_parsed_and_one_deeper_is_refused():
    value = parse(nested(limits.JSON_DEPTH))
    assert isinstance(value, list)
    with pytest.raises(ParseError) as refused:
        parse(nested(limits.JSON_DEPTH + 1))
    assert refused.value.get_codes() == "too_deeply_nested"


@pytest.mark.parametrize("depth", [1_000, 100_000, 1_000_000])
def test_json_nested_past_pythons_recursion_limit_is_refused_without_a_recursion_error(
    depth, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # the depth, not the size, is tested
    with pytest.raises(ParseError):
        parse(nested(depth))
    objects = ('{"a":' * depth + "1" + "}" * depth).encode()
    with pytest.raises(ParseError):
        parse(objects)


def test_deep_nesting_counts_objects_and_arrays_alike():
    mixed = json.dumps(_alternating(limits.JSON_DEPTH + 1)).encode()
    with pytest.raises(ParseError):
        parse(mixed)
    assert parse(json.dumps(_alternating(limits.JSON_DEPTH)).encode())


def _alternating(depth: int):
    value: object = 0
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


def test_the_parser_reads_no_more_than_the_cap(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert parse(b'"' + b"x" * 98 + b'"') == "x" * 98
    with pytest.raises(parsers.RequestTooLarge):
        parse(b'"' + b"x" * 99 + b'"')


def test_nan_and_infinity_stay_refused():
    with pytest.raises(ParseError):
        parse(b'{"a": NaN}')


@pytest.mark.django_db
def test_deep_json_at_an_endpoint_is_a_400_in_the_error_shape(member_api_client):
    response = member_api_client.post(
        "/api/challenges/", nested(100_000), content_type="application/json"
    )
    assert_error(response, 400, "too_deeply_nested")


@pytest.mark.django_db
def test_a_body_over_the_cap_is_refused_before_it_is_read(member_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = member_client.post(
        "/settings/profile/", {"display_name": "x" * 2000, "bio": "", "skills": ""}
    )
    assert response.status_code == 413
    assert b"too much to send" in response.content


@pytest.mark.django_db
def test_too_many_form_fields_is_a_400(member_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = member_client.post("/settings/profile/", {f"f{i}": "x" for i in range(20)})
    assert response.status_code == 400


# --- UTC offsets and 64-bit integers -------------------------------------------------------------


@pytest.mark.parametrize("hours", [-12, 0, 5.5, 14])
def test_offsets_in_use_are_accepted_and_converted_to_utc(hours):
    moment = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=hours)))
    converted = inputs.check_utc_offset(moment)
    assert converted == moment and converted.tzinfo == UTC


@pytest.mark.parametrize(
    "offset", [timedelta(hours=-13), timedelta(hours=16), timedelta(hours=23, minutes=59)]
)
def test_offsets_no_place_uses_are_refused(offset):
    with pytest.raises(ValidationError):
        inputs.check_utc_offset(datetime(2030, 1, 1, tzinfo=timezone(offset)))


def test_a_date_that_overflows_in_utc_is_refused_not_raised():
    with pytest.raises(ValidationError):
        inputs.check_utc_offset(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["2024-01-01T00:00:00+16:00", "2024-01-01T00:00:00-23:59"])
def test_a_date_filter_with_an_impossible_offset_is_a_400_naming_it(api_client, value):
    response = api_client.get("/api/users/", {"date_joined__gte": value})
    error = assert_error(response, 400, "invalid")
    assert "date_joined__gte" in error["fields"]


@pytest.mark.django_db
def test_a_date_filter_with_a_real_offset_filters(api_client, user):
    response = api_client.get("/api/users/", {"date_joined__gte": "2000-01-01T00:00:00+14:00"})
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.django_db
def test_the_challenge_form_and_api_refuse_an_impossible_offset():
    form = ChallengeForm(
        {"title": "T", "summary": "S", "visibility": "public", "licence": "CC",
         "opens_at": "2030-01-01T10:00+16:00"}
    )  # fmt: skip
    assert not form.is_valid()
    assert "opens_at" in form.errors

    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(make_organiser())
    response = api.post(
        "/api/challenges/",
        {"title": "T", "summary": "S", "closes_at": "2030-01-01T10:00:00+16:00"},
        format="json",
    )
    assert "closes_at" in assert_error(response, 400, "invalid")["fields"]


@pytest.mark.parametrize(
    "raw, expected",
    [("42", 42), (str(2**63 - 1), 2**63 - 1), (str(2**63), None), (str(2**70), None),
     ("9" * 5000, None), ("²", None), ("٣", None), ("-1", None), ("", None), ("1.5", None)],
)  # fmt: skip
def test_parse_id_takes_ascii_digits_that_fit_a_64_bit_column(raw, expected):
    assert inputs.parse_id(raw) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/api/solutions/?root=", "/api/comments/?solution=", "/api/upstream-proposals/?fork=",
     "/api/upstream-proposals/?parent=", "/api/offers/?min_price=", "/api/offers/?max_price=",
     "/api/offers/?max_delivery_days="],
)  # fmt: skip
def test_an_integer_filter_beyond_64_bits_is_a_400(api_client, path):
    response = api_client.get(path + str(2**70))
    assert_error(response, 400, "invalid")
    assert api_client.get(path + "12").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("price", [str(2**70), "1e400", "nan"])
def test_the_marketplace_page_shows_a_bad_price_filter_as_an_error(client, price):
    response = client.get("/marketplace/", {"min_price": price})
    assert response.status_code == 200
    assert response.context["errors"]
    assert not response.context["page"].object_list


@pytest.mark.django_db
def test_ids_typed_in_other_digits_are_not_a_500(member_client):
    solution = make_solution()
    assert member_client.post("/discussion/solution/²/", {"body": "Hi"}).status_code == 404
    criterion = solution.challenge.criteria.first()
    response = member_client.post(
        f"/solutions/{solution.pk}/review/", {"comment": "Good", f"criterion-{criterion.pk}": "²"}
    )
    assert response.status_code == 302
