"""`python manage.py simulate --members N --challenges C --days D --seed S`: a synthetic
community driven through the real services (reputation.simulation), on a scratch database only.

It refuses to run unless the database's name contains "sim" or "scratch" (e.g.
DATABASE_URL=sqlite:////tmp/peerhub_sim.sqlite3), or `--i-know` is given: it writes thousands
of members, solutions and votes. With the marketplace installed, `--prize-share` of the
challenges carry prize purses (`--winners` per challenge are paid). It migrates that database
first, prints the figures and writes the HTML report (var/simulation-report.html) that the "How
reputation works" page quotes.

Adversaries (issue 23, reputation.simulation_adversaries) are off unless a flag sizes them:
`--camouflage N`, `--sleepers N`, `--lineage-farmers N`, `--bribed-share X`,
`--review-bombers N`, `--wash-traders N`; `--adversaries all` switches on each one not sized
by its own flag at its default strength. Their figures print after the run's."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from peerhub.scratch import is_scratch
from reputation import simulation, simulation_report
from reputation.simulation_adversaries import DEFAULT_STRENGTH

__all__ = ["Command", "adversary_sizes", "is_scratch"]


def adversary_sizes(options: dict) -> dict:
    """Each adversary's size: its own flag, else its default strength with `--adversaries all`,
    else 0 (off)."""
    sizes = {}
    for name, strength in DEFAULT_STRENGTH.items():
        given = options.get(name)
        if given is None:
            given = strength if options.get("adversaries") == "all" else 0
        if given < 0 or (name == "bribed_share" and given > 1):
            raise CommandError(f"--{name.replace('_', '-')}: 0 or more (a share: 0 to 1).")
        sizes[name] = given
    return sizes


class Command(BaseCommand):
    help = "Simulate a community through the real rules and measure the feedback loops."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=300)
        parser.add_argument("--challenges", type=int, default=6)
        parser.add_argument("--days", type=int, default=10)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--ring-share", type=float, default=0.02)
        parser.add_argument(
            "--prize-share",
            type=float,
            default=simulation.Config.prize_share,
            help="The share of challenges with a prize purse (0 for none).",
        )
        parser.add_argument(
            "--winners",
            type=int,
            default=simulation.Config.winners,
            help="Winners the organisers select per challenge (places of the 60/30/10 table).",
        )
        sizes = {
            "camouflage": (int, "Honest-looking judgements of popular work per ring member a day."),
            "sleepers": (int, "Accounts honest for the first half of the run, colluding after."),
            "lineage_farmers": (int, "Puppets forking a master's solutions with cosmetic edits."),
            "bribed_share": (float, "Share of veterans and voters bribed to back the ring."),
            "review_bombers": (int, "Veterans giving the lowest reviews to a rival's best."),
            "wash_traders": (int, "Puppets buying and reviewing each other's services."),
        }
        for name, (kind, text) in sizes.items():
            parser.add_argument(
                "--" + name.replace("_", "-"),
                type=kind,
                default=None,
                help=f"{text} Off by default; {DEFAULT_STRENGTH[name]} with --adversaries all.",
            )
        parser.add_argument(
            "--adversaries",
            choices=["none", "all"],
            default="none",
            help="all: every adversary not sized by its own flag at its default strength.",
        )
        parser.add_argument(
            "--wash-loop",
            action="store_true",
            help="The wash ring pays only round its loop (each trader buys from the next).",
        )
        parser.add_argument(
            "--i-know", action="store_true", help="Run on a database not named as scratch."
        )
        parser.add_argument("--no-report", action="store_true")

    def handle(
        self, *args, members, challenges, days, seed, ring_share, prize_share, winners, i_know,
        wash_loop, **options,
    ):  # fmt: skip
        name = connection.settings_dict["NAME"]
        if not (is_scratch(name) or i_know):
            raise CommandError(
                f"Refusing to simulate on {name!r}: use a scratch database whose name contains "
                "'sim' or 'scratch' (DATABASE_URL=sqlite:////tmp/peerhub_sim.sqlite3), or pass "
                "--i-know."
            )
        if members < 60 or challenges < 1 or days < 1:
            raise CommandError("At least 60 members, 1 challenge and 1 day.")
        if not 0 <= prize_share <= 1 or winners < 1:
            raise CommandError("A prize share from 0 to 1, and at least 1 winner.")
        adversaries = adversary_sizes(options)
        call_command("migrate", verbosity=0, interactive=False)
        config = simulation.Config(
            members=members, challenges=challenges, days=days, seed=seed, ring_share=ring_share,
            prize_share=prize_share, winners=winners, wash_loop=wash_loop, **adversaries,
        )  # fmt: skip
        result = simulation.Simulation(config, log=self.stdout.write).run()
        self.stdout.write("")
        for figure, value, goal, reached in result.figures():
            mark = "   " if goal == "—" else ("ok " if reached else "NOT")
            self.stdout.write(f"[{mark}] {figure}: {value} (goal {goal})")
        self.stdout.write(
            f"ring in the top decile: {result.ring_in_top_decile} of {result.ring_size}; "
            f"low-trust: {result.low_trust_ring} ring, {result.low_trust_honest} honest; "
            f"{result.solutions} solutions, {result.votes} votes, {result.reviews} reviews; "
            f"{result.seconds_in_all:.0f} s in all."
        )
        if result.purses:
            self.stdout.write(
                f"prizes: {result.money(result.money_contributed)} contributed to "
                f"{result.purses} purses, {result.money(result.money_fees)} in fees, "
                f"{result.money(result.money_awarded)} awarded "
                f"({result.money(result.money_to_ancestors)} to ancestors), "
                f"{result.purses_refunded} refunded."
            )
        for adversary, figures in result.adversary_figures():
            self.stdout.write(f"\n{adversary}:")
            for figure, value, goal, reached in figures:
                mark = "   " if goal == "—" else ("ok " if reached else "NOT")
                self.stdout.write(f"  [{mark}] {figure}: {value} (goal {goal})")
        if not options["no_report"]:
            path = simulation_report.write(result)
            self.stdout.write(f"Report: {path}")
