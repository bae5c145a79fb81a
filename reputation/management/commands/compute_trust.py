"""`python manage.py compute_trust`: a new trust snapshot now (the beat runs it hourly)."""

from django.core.management.base import BaseCommand

from reputation import trust


class Command(BaseCommand):
    help = "Compute every member's trust from the endorsement graph (a new snapshot)."

    def handle(self, *args, **options):
        snapshot = trust.trust_compute()
        if snapshot is None:
            self.stdout.write("No seed member (staff, pinned level or top level): nothing done.")
            return
        p = snapshot.parameters
        self.stdout.write(
            f"Trust snapshot {snapshot.version}: {p['members']} members, {p['edges']} edges, "
            f"{p['seeds']} seeds, {p['steps']} steps, {p['low_trust']} low-trust, "
            f"{len(snapshot.clusters)} mutual-voting clusters."
        )
