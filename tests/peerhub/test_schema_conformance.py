"""The API answers as its OpenAPI schema says: schemathesis generates requests for every
operation of /api/schema/ and checks each answer against the schema (a documented status code,
the documented content type and body, never a 5xx).

It runs in-process through the WSGI application (no network), signed in as a member with a
personal access token holding every scope, over a small dataset built with the factories and
services: a challenge the member organises, solutions, a fork proposed upstream, a challenge
proposal, a comment, the manifesto, an offer and an order the member placed. Path parameters
point at those rows, so operations reach their real answers instead of only 404. Valid and
invalid requests alike. Bounded for CI (well under a minute here): few examples per operation,
derandomized, explicit examples and generation only. The write limits stay off (no
`write_limits` mark). No service needed, so it runs, never skipped, on SQLite and PostgreSQL."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from challenges import services as challenge_services
from peerhub import tokens
from tests.factories import (
    ChallengeFactory,
    ManifestoVersionFactory,
    UserFactory,
    make_fork,
    make_solution,
)
from tests.marketplace.factories import OfferFactory, place

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def wsgi_application():
    """The WSGI application, called directly as a server would. Like Django's test client, keep
    the test's database connection across requests: the end of a request would otherwise close
    it (Django closes a connection left out of autocommit, as the test's transaction is), which
    breaks every later query on PostgreSQL."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def dataset(db):
    member = UserFactory()
    challenge = ChallengeFactory(organisers=[member], created_by=member)
    solution = make_solution(challenge=challenge, author=member)
    other = make_solution(challenge=challenge, title="Another idea")
    fork = make_fork(other, author=member)
    upstream = challenge_services.upstream_propose(fork=fork, by=member, message="Take mine.")
    proposal = challenge_services.proposal_create(
        proposer=member, title="A new challenge", summary="Why.", problem="What."
    )
    ManifestoVersionFactory()
    comment = challenge_services.comment_create(
        author=member, target=solution, body="A first comment."
    )
    offer = OfferFactory()
    order = place(offer=offer, buyer=member)
    token = tokens.token_create(
        user=member,
        name="schemathesis",
        scopes=["read", "write", "marketplace"],
        expires_in_days=None,
    )
    # DELETE /api/auth/tokens/{id}/ revokes this one, never the token the requests carry.
    spare = tokens.token_create(user=member, name="spare", scopes=["read"], expires_in_days=None)
    return {
        "secret": token.secret,
        "values": {
            "auth": {"id": spare.token.pk},
            "challenges": {"slug": challenge.slug, "number": 1},
            "solutions": {"id": solution.pk, "number": 1},
            "challenge-proposals": {"id": proposal.pk},
            "upstream-proposals": {"id": upstream.pk},
            "comments": {"id": comment.pk},
            "plans": {"code": "premium"},
            "offers": {"id": offer.pk},
            "orders": {"id": order.pk},
            "users": {"username": member.username},
        },
    }


# Every operation of the schema is run: none is excluded. The payment webhook
# (/api/payments/webhook/<provider>/) is not one: a plain Django view outside DRF and outside the
# schema, since its body is whatever the provider signs (tests/marketplace covers it).
SETTINGS = settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

ANONYMOUS = settings(SETTINGS, max_examples=3)


def _failure(operation, exc: BaseException) -> str:
    return f"{operation.label}: {type(exc).__name__}: {exc}"


def _run(operation, *, values: dict, headers: dict, profile=SETTINGS) -> None:
    # Valid requests and, alike, ones the schema says are invalid (those must get a documented
    # 4xx, never a 500).
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @profile
    @given(case=cases)
    def check(case):
        # Point path parameters at the dataset's rows, where the route has one of them.
        for name, value in values.items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = value
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


def test_api_answers_as_its_schema_says(dataset, wsgi_application):
    """Every operation, each failure reported (one operation's failure does not hide the next).
    schemathesis's own pytest parametrization (`schemathesis.pytest.from_fixture`) is not used:
    it reads a private attribute pytest 9 no longer has."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_application)
    headers = {"Authorization": f"Token {dataset['secret']}"}
    failures, tested = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        values = dataset["values"].get(operation.path.removeprefix("/api/").split("/", 1)[0], {})

        try:
            _run(operation, values=values, headers=headers)
            # Anonymous too: other code paths (and the documented 401s).
            _run(operation, values=values, headers={}, profile=ANONYMOUS)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # schemathesis's FailureGroup is a BaseExceptionGroup
            failures.append(_failure(operation, exc))
        tested += 1
    assert tested > 100
    assert not failures, "\n\n".join(failures)
