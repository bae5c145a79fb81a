"""The full rebuild of the signatures' lines (`ledger.rebuild_sources`): on PostgreSQL one
statement (`ledger._manifesto_lines_sql`) compares, key by key, what the ledger holds with what
the signatures give and appends the difference, without reading the lines into Python; elsewhere
the Python comparison does. Each case below puts the ledger wrong behind the services' back (a
line removed, tampered with, added for a member who never signed, or a rules change), then
asserts that the rebuild appends exactly the corrections the Python comparison would append,
and that a right ledger gets none."""

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


def python_corrections() -> list[tuple]:
    """The corrections the Python comparison would append now, without appending them."""
    held = ledger._held(ReputationEvent.objects.filter(kind=Kind.MANIFESTO_SIGNED))
    return as_rows(ledger._corrections(ledger.desired_for_manifesto(), held))


FIELDS = (
    "fact_key", "seq", "amount", "fact_at", "beneficiary_id", "kind", "solution_id",
    "source_solution_id", "actor_id", "capped", "note",
)  # fmt: skip


def as_rows(lines) -> list[tuple]:
    return sorted(tuple(getattr(line, f) for f in FIELDS) for line in lines)


def appended_by_rebuild() -> list[tuple]:
    before = ledger.last_line_id()
    ledger.sync_everything()
    return as_rows(ReputationEvent.objects.filter(pk__gt=before, kind=Kind.MANIFESTO_SIGNED))


@pytest.mark.parametrize("change", [removed, tampered, unsigned, stranger])
def test_a_wrong_signature_line_is_corrected_as_the_python_comparison_corrects_it(change):
    members = signed_world()
    keys = change(members)
    expected = python_corrections()
    assert expected
    assert appended_by_rebuild() == expected
    amount = rules_module.rules().manifesto_signed
    assert totals() == dict.fromkeys(keys, amount)
    assert appended_by_rebuild() == []


def test_a_rules_change_is_corrected():
    members = signed_world()
    with override_settings(PEERHUB_REPUTATION={"manifesto_signed": 2}):
        expected = python_corrections()
        assert len(expected) == 3
        assert appended_by_rebuild() == expected
        assert totals() == {f"manifesto:{m.pk}": Decimal("2") for m in members}
        assert appended_by_rebuild() == []


def test_a_right_ledger_is_not_read(postgres):
    """The nightly rebuild of a right ledger reads none of the signatures' lines into Python
    and appends nothing."""
    signed_world()
    with (
        mock.patch.object(ledger, "desired_for_manifesto") as derived,
        mock.patch.object(ledger, "_held", wraps=ledger._held) as held,
    ):
        assert ledger.sync_everything() == 0
    derived.assert_not_called()
    assert not any(
        call.args and "manifesto" in str(call.args[0].query) for call in held.call_args_list
    )
