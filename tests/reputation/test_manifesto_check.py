"""The full rebuild's check of the signatures' lines (`ledger._manifesto_lines_right`): on
PostgreSQL one statement says whether the ledger holds, key by key, what the signatures give, and
only a ledger that does not is read into Python and corrected. Each case below puts the ledger
wrong behind the services' back (a line removed, tampered with, added for a member who never
signed, or a rules change), then asserts that the check says so and that the rebuild appends the
corrections the Python comparison appends (and that a right ledger is not read at all)."""

from decimal import Decimal
from unittest import mock

import pytest
from django.test import override_settings

from peerhub.models import ManifestoSignature
from reputation import ledger
from reputation import rules as rules_module
from reputation.models import ReputationEvent
from tests.factories import ManifestoSignatureFactory, ManifestoVersionFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = ReputationEvent.Kind


def signed_world() -> list:
    """Three members who signed (one of them two versions), a member who did not, and the
    ledger right."""
    first, second = ManifestoVersionFactory(), ManifestoVersionFactory()
    a, b, c = UserFactory.create_batch(3)
    UserFactory()
    for member in (a, b, c):
        ManifestoSignatureFactory(version=first, user=member)
    ManifestoSignatureFactory(version=second, user=a)
    ledger.sync_everything()
    return [a, b, c]


def line(member) -> ReputationEvent:
    return ReputationEvent.objects.get(fact_key=f"manifesto:{member.pk}", seq=1)


def totals() -> dict[str, Decimal]:
    held = ledger._held(ReputationEvent.objects.filter(kind=Kind.MANIFESTO_SIGNED))
    return {key: h.total for key, h in held.items() if h.total}


def removed(members):
    line(members[0]).delete()
    return {f"manifesto:{m.pk}" for m in members}


def tampered(members):
    ReputationEvent.objects.filter(pk=line(members[1]).pk).update(amount=Decimal("7"))
    return {f"manifesto:{m.pk}" for m in members}


def unsigned(members):
    ManifestoSignature.objects.filter(user=members[2]).delete()
    return {f"manifesto:{m.pk}" for m in members[:2]}


def stranger(members):
    outsider = UserFactory()
    ReputationEvent.objects.create(
        beneficiary=outsider, kind=Kind.MANIFESTO_SIGNED, fact_key=f"manifesto:{outsider.pk}",
        seq=1, amount=Decimal("1"), fact_at=line(members[0]).fact_at,
    )  # fmt: skip
    return {f"manifesto:{m.pk}" for m in members}


@pytest.mark.parametrize("change", [removed, tampered, unsigned, stranger])
def test_a_wrong_signature_line_is_seen_and_corrected(postgres, change):
    members = signed_world()
    assert ledger._manifesto_lines_right()
    keys = change(members)
    assert not ledger._manifesto_lines_right()
    assert ledger.sync_everything() > 0
    assert ledger._manifesto_lines_right()
    amount = rules_module.rules().manifesto_signed
    assert totals() == dict.fromkeys(keys, amount)


def test_a_rules_change_is_seen_and_corrected(postgres):
    members = signed_world()
    with override_settings(PEERHUB_REPUTATION={"manifesto_signed": 2}):
        assert not ledger._manifesto_lines_right()
        assert ledger.sync_everything() == 3
        assert ledger._manifesto_lines_right()
        assert totals() == {f"manifesto:{m.pk}": Decimal("2") for m in members}


def test_a_right_ledger_is_not_read(postgres):
    """The point of the check: the nightly rebuild of a right ledger reads none of the
    signatures' lines into Python."""
    signed_world()
    with mock.patch.object(ledger, "desired_for_manifesto") as derived:
        assert ledger.sync_everything() == 0
    derived.assert_not_called()


def test_every_rebuild_corrects_a_missing_line():
    """Everywhere: on SQLite, which has no such check (it answers False: not known), the lines
    are compared in Python; on PostgreSQL the check names the wrong ledger first."""
    members = signed_world()
    keys = removed(members)
    assert not ledger._manifesto_lines_right()
    assert ledger.sync_everything() == 1
    assert totals() == dict.fromkeys(keys, rules_module.rules().manifesto_signed)
