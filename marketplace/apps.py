from django.apps import AppConfig

PROFILE_OFFERS = 10


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def rendered_markdown(self) -> list[tuple]:
        """See ChallengesConfig.rendered_markdown. An order's words link no mentions when
        rendered again: who may be linked depends on the order (they are linked when written)."""
        from .models import Offer, Order, OrderMessage

        return [
            (Offer, "description", True),
            (Order, "brief", False),
            (OrderMessage, "body", False),
        ]

    def request_user_annotations(self) -> dict:
        """Premium, loaded with the request's user (peerhub.auth_backends)."""
        from . import permissions

        return permissions.request_user_annotations()

    def ready(self) -> None:
        from django.core import checks as system_checks

        from . import checks, pagecache, signals  # noqa: F401  (signals connects the receivers)

        pagecache.connect()  # writes that invalidate cached anonymous pages (issue 17)

        # Tagged, so that gunicorn and Celery can run just these before starting (peerhub.startup);
        # `check` and `check --deploy` run them too.
        system_checks.register(checks.payment_provider_check, checks.TAG)
        system_checks.register(checks.payout_provider_check, checks.TAG)

    def challenge_related(self) -> list[str]:
        """Read with the challenge (select_related, one query): its prize purse, which its page
        shows (purse_selectors.purse_for reads it from there)."""
        return ["purse__rollover_to"]

    def challenge_sections(self, *, request, challenge) -> list[tuple[str, dict]]:
        """The prize purse on a challenge's page: its total, backers and rules, and a way to
        add to it (or, for its organisers, to set one up)."""
        from .purse_views import purse_context

        context = purse_context(request, challenge)
        if context["purse"] is None and not context["can_edit_rules"]:
            return []
        return [("marketplace/_purse_section.html", context)]

    def solution_sections(self, *, request, solution) -> list[tuple[str, dict]]:
        """“Hire the author” on a solution that active offers build on."""
        from challenges.pagecache import visitors_value

        from . import selectors

        # As a visitor sees them, for every member with no unlisted offer of their own on it.
        offers = visitors_value(
            request,
            [f"solution:{solution.pk}"],
            "solution-offers",
            solution.pk,
            lambda user: list(selectors.offers_for_solution(user=user, solution=solution)[:5]),
            alike=lambda: not selectors.unlisted_offers(request.user, solution=solution).exists(),
        )
        return [("marketplace/_solution_offers.html", {"offers": offers})] if offers else []

    def reputation_fact_sources(self) -> list:
        """Reviewed orders give sellers reputation (reputation may not import the marketplace)."""
        from .reputation_facts import SOURCE

        return [SOURCE]

    def solution_adoption(self, *, challenge_ids) -> dict[int, list[tuple[int, int]]]:
        """For the fitness of these challenges' solutions: {solution id: [(active offers based
        on it, completed orders of them)]}, in two queries whatever the number of challenges."""
        from .selectors import adoption_for_challenges

        return adoption_for_challenges(challenge_ids)

    def trust_endorsements(self) -> list[tuple[int, int, int]]:
        """For reputation's trust step: (buyer, seller, completed orders) per pair."""
        from .selectors import completed_order_endorsements

        return completed_order_endorsements()

    def home_tasks(self, *, user, limit: int) -> list:
        """Orders waiting for the member, as buyer or seller (see peerhub.home)."""
        from . import home

        return home.tasks_for(user=user, limit=limit)

    def profile_sections(self, *, request, viewer, member) -> list[tuple[str, dict]]:
        """The seller's services on their profile (kept: their offers bump the profile)."""
        from challenges.pagecache import visitors_or_own_value

        from . import selectors

        offers = visitors_or_own_value(
            request,
            [f"member:{member.username}", "reputation"],
            "profile-offers",
            member.pk,
            lambda reader: list(
                selectors.offer_list(user=reader).filter(seller=member)[:PROFILE_OFFERS]
            ),
            own=viewer.pk == member.pk,
        )
        return [("marketplace/_profile_offers.html", {"offers": offers})] if offers else []

    def staff_queues(self) -> list:
        """This app's queues on the staff dashboard, counted here (see peerhub.staff)."""
        from . import staff

        return staff.queues()

    # The community simulation's prizes (reputation.simulation, issue 20).

    def simulation_purse_fund(self, *, challenge, organiser, places, backers) -> list[int]:
        """Fund a simulated challenge's purse through the real services: [its net in cents]."""
        from . import simulation

        return [
            simulation.purse_fund(
                challenge=challenge, organiser=organiser, places=places, backers=backers
            )
        ]

    def simulation_award_tasks(self) -> list:
        """The tasks that pay the purses after the results publish (the simulation runs them
        between two looks at the reputation ledger)."""
        from . import simulation

        return simulation.award_tasks()

    def simulation_deferred_tasks(self) -> list:
        """The per-fact syncs the simulation may hold for its nightly rebuild (which derives
        the same lines through `reputation_fact_sources`): the order reviews' reputation."""
        from .tasks import sync_order_reputation

        return [sync_order_reputation]

    def simulation_money(self, *, member_ids, challenge_ids) -> list[dict]:
        """What the simulated purses took in and paid out, per member and kind."""
        from . import simulation

        return [simulation.money(member_ids=member_ids, challenge_ids=challenge_ids)]

    # The simulation's wash traders (issue 23).

    def simulation_wash_offer(self, *, seller, base_solution) -> list[int]:
        """List a simulated wash trader's service based on their solution: [the offer's id]."""
        from . import simulation

        return [simulation.wash_offer(seller=seller, base_solution=base_solution)]

    def simulation_wash_trade(self, *, buyer, offer_id) -> list[dict | None]:
        """One wash trade through the real order services: [the order's figures, or None]."""
        from . import simulation

        return [simulation.wash_trade(buyer=buyer, offer_id=offer_id)]

    def simulation_orders_judged(self, *, order_ids) -> list[dict]:
        """[{order id: {"suspected": the wash-trading rule's verdict, "reputation": what its
        review gave}}] for the simulation's figures."""
        from . import simulation

        return [simulation.orders_judged(order_ids=order_ids)]

    def member_export(self, *, user) -> list:
        """This app's part of a member's data export (peerhub.exports, issue 21)."""
        from . import member_export

        return member_export.member_parts(user=user)

    def account_deletion_blockers(self, *, user) -> list:
        """Orders, payouts, refunds and balances to settle before a member may leave (see
        peerhub.deletion and marketplace.leaving)."""
        from . import leaving

        return leaving.deletion_blockers(user=user)

    def account_anonymise(self, *, user, remove_drafts: bool) -> list[str]:
        """A leaving member's offers paused, subscription stopped (see marketplace.leaving)."""
        from . import leaving

        return leaving.anonymise(user=user, remove_drafts=remove_drafts)
