"""The challenges part of the demo world, loaded by `python manage.py seed_demo`.

Everything is built through the real services, in the order a community would have done it:
challenges are framed and opened, solutions posted, revised, forked across generations and
challenges, offered back upstream, discussed; only then do two challenges move on to
`selecting` and `closed`. Afterwards the timestamps of the rows created here (never of
revisions, which are immutable) are spread over the past weeks, so that lists and timelines
look lived in.

Idempotent: when the demo challenges exist already (keyed by slug), nothing is added.

The places (Kisanga, Valmora, Brenford, the Arda valley, Linden Court, …) are composites: the
numbers are plausible and internally consistent, not a report on any real town."""

# The texts below are prose for people: en dashes, multiplication and minus signs are meant.
# ruff: noqa: RUF001

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from peerhub.models import User, Value

from . import demo_files, services
from .models import (
    Challenge,
    ChallengeProposal,
    Comment,
    ProposalBacking,
    Revision,
    Solution,
    UpstreamProposal,
)

MEMBERS = ("ada", "marta", "kwame", "li", "sofia", "tomas", "amina", "jonas")
ORGANISERS = ("marta", "kwame")

WATER = "village-water-filtration"
BUDGET = "participatory-budget-people-use"
LANTERN = "repairable-solar-lantern"
FOOD = "fifty-km-food-shed"
FLOOD = "flood-warning-scrap-sensors"
BUSES = "open-data-bus-punctuality"
RETROFIT = "linden-court-retrofit"
COLD_ROOMS = "community-cold-rooms-for-smallholder-harvests"  # adopted from a proposal
SLUGS = (WATER, BUDGET, LANTERN, FOOD, FLOOD, BUSES, RETROFIT, COLD_ROOMS)

Status = Challenge.Status


def _edit(body: str, *pairs: tuple[str, str], append: str = "") -> str:
    """A new version of `body`: each `old` text replaced once by `new`, then `append` added as
    new sections at the end. A missing `old` is a mistake in this file, so it fails loudly."""
    for old, new in pairs:
        if old not in body:
            raise ValueError(f"demo edit: text not found: {old[:60]!r}")
        body = body.replace(old, new, 1)
    if append:
        body = body.rstrip("\n") + "\n\n" + append.strip("\n") + "\n"
    return body


def _backdate_revisions(*, moment: datetime, solution_id: int | None = None, pk=None) -> None:
    """The demo tells a story of past weeks, so its revisions are dated in it. Revisions are
    immutable in the application (RevisionQuerySet refuses updates); only this seed, writing
    history before anyone reads it, sets their date, through the base QuerySet."""
    from django.db.models import QuerySet

    rows = QuerySet(model=Revision)
    rows = rows.filter(pk=pk) if pk is not None else rows.filter(solution_id=solution_id)
    rows.update(created_at=moment)


@dataclass
class _World:
    """Calls the services as the demo members and remembers when each thing happened."""

    now: datetime = field(default_factory=timezone.now)
    users: dict[str, User] = field(default_factory=dict)
    values: dict[str, Value] = field(default_factory=dict)
    activity: dict[int, datetime] = field(default_factory=dict)
    refs: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.users = {u.username: u for u in User.objects.filter(username__in=MEMBERS)}
        self.by_id = {u.pk: u for u in self.users.values()}
        self.values = {v.slug: v for v in Value.objects.all()}

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago)

    def _touch(self, challenge_id: int, days_ago: float) -> None:
        moment = self.at(days_ago)
        if moment > self.activity.get(challenge_id, moment - timedelta(1)):
            self.activity[challenge_id] = moment

    # --- Challenges --------------------------------------------------------------------------

    def challenge(
        self,
        *,
        slug: str,
        organiser: str,
        created: float,
        closes_in: float,
        values: tuple[str, ...],
        invited: tuple[str, ...] = (),
        co_organisers: tuple[str, ...] = (),
        **fields,
    ) -> Challenge:
        """Frame a challenge `created` days ago and open it half a day later."""
        by = self.users[organiser]
        challenge = services.challenge_create(
            organiser=by,
            slug=slug,
            values=[self.values[v] for v in values if v in self.values],
            opens_at=self.at(created - 0.5),
            closes_at=self.now + timedelta(days=closes_in),
            **fields,
        )
        challenge = services.challenge_transition(challenge=challenge, by=by, to=Status.OPEN)
        for name in co_organisers:
            services.challenge_add_organiser(challenge=challenge, by=by, member=self.users[name])
        for name in invited:
            services.challenge_invite(challenge=challenge, by=by, member=self.users[name])
        Challenge.objects.filter(pk=challenge.pk).update(created_at=self.at(created))
        self._touch(challenge.pk, created - 0.5)
        return challenge

    def move(self, challenge: Challenge, to: str, *, by: str, day: float) -> Challenge:
        challenge = services.challenge_transition(challenge=challenge, by=self.users[by], to=to)
        self._touch(challenge.pk, day)
        return challenge

    def deadline_passed(self, challenge: Challenge, days_ago: float) -> None:
        """The challenge ran while its deadline lay ahead; now it lies `days_ago` behind."""
        Challenge.objects.filter(pk=challenge.pk).update(closes_at=self.at(days_ago))

    # --- Solutions ---------------------------------------------------------------------------

    def _dated(self, solution: Solution, day: float) -> None:
        moment = self.at(day)
        Solution.objects.filter(pk=solution.pk).update(
            created_at=moment, published_at=moment, updated_at=moment
        )
        # Its first revision was written then too, not "a minute ago".
        _backdate_revisions(solution_id=solution.pk, moment=moment)
        self._touch(solution.challenge_id, day)

    def _updated(self, solution: Solution, day: float, revision: Revision | None = None) -> None:
        Solution.objects.filter(pk=solution.pk).update(updated_at=self.at(day))
        if revision is not None:
            _backdate_revisions(pk=revision.pk, moment=self.at(day))
        self._touch(solution.challenge_id, day)

    def body(self, solution: Solution) -> str:
        return (
            Revision.objects.filter(solution_id=solution.pk)
            .order_by("-number")
            .values_list("body", flat=True)
            .first()
        )

    def solution(
        self, challenge: Challenge, author: str, day: float, title: str, body: str, message=""
    ) -> Solution:
        solution = services.solution_create(
            challenge=challenge,
            author=self.users[author],
            title=title,
            body=body,
            message=message or "First version",
        )
        self._dated(solution, day)
        return solution

    def revise(
        self,
        solution: Solution,
        day: float,
        message: str,
        *pairs: tuple[str, str],
        append: str = "",
        title: str = "",
        uploads=(),
    ) -> Revision:
        current = Solution.objects.only("title").get(pk=solution.pk)
        revision = services.solution_revise(
            solution=solution,
            by=self.by_id[solution.author_id],
            title=title or current.title,
            body=_edit(self.body(solution), *pairs, append=append),
            message=message,
            uploads=uploads,
        )
        self._updated(solution, day, revision)
        return revision

    def fork(
        self,
        source: Solution,
        author: str,
        day: float,
        title: str,
        *pairs: tuple[str, str],
        append: str = "",
        message: str = "",
        challenge: Challenge | None = None,
        uploads=(),
    ) -> Solution:
        """Fork `source`, then (some hours later) make the fork its own with a revision."""
        fork = services.solution_fork(
            source=source, by=self.users[author], challenge=challenge, title=title
        )
        self._dated(fork, day)
        if pairs or append or uploads:
            self.revise(fork, day - 0.2, message, *pairs, append=append, uploads=uploads)
        return fork

    def withdraw(self, solution: Solution, *, by: str, day: float) -> None:
        services.solution_withdraw(solution=solution, by=self.users[by])
        Solution.objects.filter(pk=solution.pk).update(withdrawn_at=self.at(day))

    # --- Upstream proposals ------------------------------------------------------------------

    def propose(self, fork: Solution, day: float, message: str) -> UpstreamProposal:
        proposal = services.upstream_propose(
            fork=fork, by=self.by_id[fork.author_id], message=message
        )
        UpstreamProposal.objects.filter(pk=proposal.pk).update(created_at=self.at(day))
        return proposal

    def accept(self, proposal: UpstreamProposal, day: float) -> Revision:
        parent = proposal.parent
        revision = services.upstream_accept(proposal=proposal, by=self.by_id[parent.author_id])
        UpstreamProposal.objects.filter(pk=proposal.pk).update(decided_at=self.at(day))
        self._updated(parent, day, revision)
        return revision

    def decline(self, proposal: UpstreamProposal, day: float, reason: str) -> None:
        parent = proposal.parent
        services.upstream_decline(proposal=proposal, by=self.by_id[parent.author_id], reason=reason)
        UpstreamProposal.objects.filter(pk=proposal.pk).update(decided_at=self.at(day))

    # --- Discussion --------------------------------------------------------------------------

    def comment(
        self, target, author: str, day: float, body: str, parent: Comment | None = None
    ) -> Comment:
        comment = services.comment_create(
            author=self.users[author], target=target, body=body, parent=parent
        )
        Comment.objects.filter(pk=comment.pk).update(created_at=self.at(day))
        challenge_id = target.pk if isinstance(target, Challenge) else target.challenge_id
        self._touch(challenge_id, day)
        return comment

    def thread(self, target, *entries: tuple[str, float, str]) -> list[Comment]:
        """A comment and its replies, each answering the one before: (author, day, body)."""
        comments: list[Comment] = []
        for author, day, body in entries:
            parent = comments[-1] if comments else None
            comments.append(self.comment(target, author, day, body, parent=parent))
        return comments

    # --- Member proposals --------------------------------------------------------------------

    def proposal(
        self,
        proposer: str,
        day: float,
        backers: tuple[tuple[str, float], ...] = (),
        **fields,
    ) -> ChallengeProposal:
        proposal = services.proposal_create(proposer=self.users[proposer], **fields)
        ChallengeProposal.objects.filter(pk=proposal.pk).update(created_at=self.at(day))
        for name, backed in backers:
            services.proposal_back(proposal=proposal, user=self.users[name])
            ProposalBacking.objects.filter(proposal=proposal, user=self.users[name]).update(
                created_at=self.at(backed)
            )
        return proposal

    def finish(self) -> None:
        for challenge_id, moment in self.activity.items():
            Challenge.objects.filter(pk=challenge_id).update(last_activity_at=moment)


def seed(*, command) -> None:
    if Challenge.objects.filter(slug__in=SLUGS).exists():
        command.stdout.write("Challenges demo already present: nothing added.")
        return
    present = set(User.objects.filter(username__in=MEMBERS).values_list("username", flat=True))
    missing = sorted(set(MEMBERS) - present)
    if missing:
        command.stderr.write(f"Challenges demo skipped: missing members {', '.join(missing)}.")
        return
    with transaction.atomic():
        world = _World()
        _water(world)
        _budget(world)
        _buses(world)
        _food(world)
        _flood(world)
        _lantern(world)
        _remix(world)
        _retrofit(world)
        _proposals(world)
        world.finish()
    command.stdout.write(command.style.SUCCESS(_summary()))


def _summary() -> str:
    challenges = Challenge.objects.filter(slug__in=SLUGS)
    solutions = Solution.objects.filter(challenge__in=challenges)
    forks = solutions.filter(parent__isnull=False)
    deepest = solutions.aggregate(deepest=Max("generation"))["deepest"] or 0
    revisions = Revision.objects.filter(solution__in=solutions).count()
    comments = Comment.objects.filter(challenge__in=challenges).count() + (
        Comment.objects.filter(solution__in=solutions).count()
    )
    upstream = UpstreamProposal.objects.filter(fork__in=solutions).count()
    proposals = ChallengeProposal.objects.filter(title__in=[p["title"] for p in PROPOSALS]).count()
    return (
        f"Challenges demo: {challenges.count()} challenges, {solutions.count()} solutions "
        f"({forks.count()} forks, up to generation {deepest}), {revisions} revisions, "
        f"{upstream} upstream proposals, {comments} comments, {proposals} challenge proposals."
    )


# =============================================================================================
# 1. Water filtration (open)
# =============================================================================================

WATER_PROBLEM = """\
Kisanga has about **500 people in 96 households**. Drinking water comes from two hand-dug wells,
6–8 m deep, and in the dry season from the river 1.2 km away.

Tests by the district health office in March and April found:

- *E. coli* in **11 of 14 samples** from the wells (median 38 CFU per 100 ml; the WHO guideline
  is zero);
- turbidity of **40–180 NTU** in river water after rain;
- no arsenic or fluoride above guideline values.

We are looking for a way to make this water safe to drink that the village can build, pay for
and repair on its own. A good answer may be a household device, a shared installation, or a
process around either; it must say what it costs, who maintains it, and how anyone knows that
it still works a year later.
"""

WATER_CONTEXT = """\
Diarrhoeal disease is the second cause of death of children under five in the district. The
clinic recorded **212 cases** last year in a catchment of 2,100 people; a quarter came from
Kisanga.

Two earlier projects left equipment behind: a chlorine doser whose supply of tablets stopped
after eight months, and a reverse-osmosis unit that needs membranes nobody in the region sells.
Both sit unused. Villagers are, understandably, sceptical of the next gadget.

What the village does have: a school with a caretaker, a women's savings group of 40 members
that already runs a grinding mill, a pottery two villages away, sand and gravel from the river,
and mobile-money coverage. Household cash income is around €60 a month, so **anything above €4
per person per year will not be sustained**.
"""

BIOSAND = """\
## The idea

A **biosand filter** is a slow sand filter scaled down to one household. Water poured in at the
top trickles through fine sand; in the top 2 cm a biological layer (the *schmutzdecke*) forms
within a few weeks and eats most pathogens. Below it, the sand strains out what is left.

It needs no power, no chemicals and no spare parts that cannot be dug out of the river bank.

## What you need per filter

| item | source | cost |
|---|---|---|
| 200 L plastic drum, cut to 90 cm | market, second-hand | €6.00 |
| 1/2" PVC outlet pipe and elbow | hardware shop | €1.50 |
| diffuser plate | cut from the drum's lid | €0.00 |
| gravel, 6–12 mm, 5 cm layer | river, sieved | €0.00 |
| coarse sand, 1–6 mm, 5 cm layer | river, sieved | €0.00 |
| fine sand, under 0.7 mm, 40 cm layer | river, sieved and washed | €0.00 |
| share of the village's sieves | wire mesh | €0.40 |
| **total** | | **€7.90** |

## How it is built

1. Fit the outlet pipe along the inside wall so that it rises to **5 cm above the sand**: the
   biological layer must always stay under water.
2. Add gravel, coarse sand, then fine sand, washing each layer until the rinse water runs clear.
3. Place the diffuser plate so that pouring does not dig a hole in the sand.
4. Pour 20 L a day for three weeks before drinking: the biological layer needs time to grow.

## Performance

Field studies of biosand filters report **90–99 % *E. coli* removal** once the filter has
matured, and turbidity below 5 NTU from water of up to 100 NTU. A household of five needs about
20 L of drinking water a day; one filter gives around 30 L an hour.

## Maintenance

When the flow drops below about 0.2 L a minute, stir the top 2 cm of sand by hand, scoop off
the dirty water and let the filter rest for a day. That is all.
"""

BIOSAND_FLOW_CHECK = """\
3. Check the flow: a full 12 L bucket should come out at **0.4 L a minute or less**. Faster
   means the sand is too coarse and pathogens slip through; add finer sand and test again.
4. Place the diffuser plate so that pouring does not dig a hole in the sand.
5. Pour 20 L"""

BIOSAND_COSTS = """\
## Muddy river water

After rain the river reaches 180 NTU, more than the filter can take without clogging in days.
Let river water settle overnight in a second, cheap 60 L bucket first and pour only the top two
thirds into the filter. Settling alone takes turbidity from 180 to about 30 NTU.

## Cost per person per year

| | per household | per person |
|---|---|---|
| filter, built once | €7.90 | €1.58 |
| settling bucket | €2.50 | €0.50 |
| drum replaced every 5 years | €1.20 a year | €0.24 a year |
| **cost per year over 10 years** | **€2.24** | **€0.45** |

For all 96 households that is **€1,000 up front**. The savings group could front it and recover
it at €0.90 per household per month over one year.
"""

BIOSAND_CHECKS = """\
## Checking that it works

A filter can fail silently: a dried-out biological layer, a crack, sand washed into the outlet.
Three checks, none needing a laboratory:

- **Every day — clarity.** Filtered water in a clear bottle, held against printed text: if the
  letters blur, stop drinking from it and tell whoever looks after the filters.
- **Every week — flow.** Time how long 1 L takes. Between 1.5 and 5 minutes is right; faster
  means a channel has opened in the sand.
- **Every month — bacteria.** An H₂S paper-strip test (about €0.50 a strip) turns black within
  48 hours if faecal bacteria are present. Testing a rotating sample of 20 filters costs the
  village €10 a month.

Write each result on a card taped to the drum. A black strip means: stir and rest the filter,
retest after a week, and boil drinking water until the strip stays yellow.

## Cost per person per year"""

SCHOOL_BANK = """\
## Siting and access

- On a concrete slab under the school's roof overhang, out of direct sun (algae) and rain.
- Two taps per filter, 60 cm high, so that a 20 L jerrycan fits underneath.
- Open **6–9 a.m. and 4–7 p.m.**; the caretaker fills the filters from the settling tank at
  midday, when the school is in session and the well is free.
- The furthest household is 900 m away: closer than the river, further than their own well.

## Cost of the bank

| item | cost |
|---|---|
| 12 filters at €7.90 | €95 |
| slab, 6 × 2 m, and gutter | €140 |
| 1,000 L settling tank, second-hand | €45 |
| **total, once** | **€280** |

That is **€0.56 per person, once**. A fee of €0.02 per 20 L jerrycan raises about €730 a year,
which pays the caretaker a monthly bonus and feeds a fund for replacement drums.
"""

ROTA = """\
## Who looks after it

One caretaker is a single point of failure: when she is ill, the bank closes. The women's
savings group already runs the grinding mill on a rota; the same 40 members can run the bank.

| day | morning (6–9) and midday fill | evening (4–7) |
|---|---|---|
| Mon | pair 1 | pair 2 |
| Tue | pair 3 | pair 4 |
| Wed | pair 5 | pair 6 |
| … | … | … |

Twenty pairs means each member serves **one or two shifts a fortnight**. The jerrycan fee is
split: half to the members on shift, half to the replacement fund.

## When something breaks

1. The pair on shift closes the tap of the faulty filter and hangs a red card on it.
2. They tell the group's treasurer the same day; she keeps the box of spare parts.
3. Anything the group cannot fix within a week goes to the monthly village meeting.
"""

TESTING_LOG = """\
## A public testing log

Trust is what the last two projects lost. The bank earns it back by testing in public:

- **Every month**, the pair on shift runs an H₂S strip test on 3 of the 12 filters, in rotation,
  so that each filter is tested once a quarter (36 strips a year, about €18).
- **Every quarter**, the district health office takes one sample for a laboratory count; they
  offered to do it free of charge.
- Results go on a **blackboard next to the taps** and into the savings group's ledger.

| month | filters tested | H₂S strip | lab *E. coli* (CFU/100 ml) | action |
|---|---|---|---|---|
| 1 | 1, 2, 3 | clear | – | none |
| 2 | 4, 5, 6 | **black (5)** | – | filter 5 rested, retest clear |
| 3 | 7, 8, 9 | clear | 0 | none |

*(Example entries: this is what the board will look like.)*

A black strip closes that filter until a retest is clear. Two black strips in a row from the
same filter mean rebuilding it.
"""

TURBIDITY_SENSOR = """\
## A turbidity sensor on the outlet

Strip tests tell us about bacteria once a month. Turbidity tells us about a failing filter
within the hour, and it is cheap to measure:

| part | cost |
|---|---|
| TS-300B turbidity sensor (a washing-machine spare part) | €3.80 |
| ESP32 board | €4.20 |
| 18650 cell from a scrapped laptop pack | €0.00 |
| enclosure and cable glands | €1.00 |
| **total** | **€9.00** |

The sensor sits in a collection cup that the pair on shift moves from outlet to outlet each
morning (a rotating manifold would be overkill). Above **5 NTU** for ten minutes, the board
texts the treasurer's phone through a €2-a-month data SIM.

It does not replace the strip test; it catches a cracked filter on the day it cracks instead of
up to three months later.
"""

WORKSHOP = """\
## Build it in a half-day workshop

Ten households build their ten filters together in one morning; the sand is sieved and washed
the day before by the youth group.

| time | step | who |
|---|---|---|
| 7:00 | cut drums, fit outlet pipes | two people with a hacksaw per drum |
| 8:00 | layer gravel and coarse sand | households, with the builder checking |
| 9:00 | fine sand in 10 cm lifts, washing each | households |
| 10:30 | flow check with the 12 L bucket | builder |
| 11:00 | diffuser plates, record cards, first 20 L pour | households |

Ten workshops cover the village in ten weeks. The builder is paid €15 a workshop from the
savings group's loan, which adds €1.50 per household.
"""

UV_BOX = """\
## Summary

A shared **UV-C disinfection box**: water flows past ultraviolet LEDs at 275 nm, which damage
the DNA of bacteria, viruses and protozoa so that they cannot reproduce. No chemicals, no taste,
and it treats water as fast as a tap runs.

## Design

- A 40 cm stainless-steel tube (from a scrapped water heater) with **8 UV-C LEDs** behind a
  quartz window at one end, lined inside with reflective aluminium tape.
- Flow limited to **2 L a minute** by a simple orifice, so that every litre receives a dose of
  at least 40 mJ/cm².
- Powered by a 20 W solar panel and a 12 Ah battery: two days of autonomy.
- A float switch turns the LEDs on only while water flows.

## Bill of materials

| part | cost |
|---|---|
| 8 × UV-C LED, 275 nm, 20 mW | €28.00 |
| LED driver and float switch | €6.50 |
| 20 W panel | €14.00 |
| 12 Ah LiFePO₄ battery | €22.00 |
| tube, quartz window, fittings | €9.00 |
| **total** | **€79.50** |

One box treats 120 L an hour. Placed at the two wells and at eight clusters of houses, ten boxes
serve the village: €795, or €1.59 per person up front.

## Limits

UV only works in clear water: particles shade pathogens from the light.
"""

UV_TURBID = """\
UV only works in clear water: particles shade pathogens from the light. Above about 5 NTU the
dose falls off sharply, so river water after rain needs two steps first:

1. **Settle overnight** in a 200 L drum (from 180 to about 30 NTU).
2. **Strain through a folded sari cloth**, four layers, into the box's inlet funnel.

Even then, 30 NTU is too turbid for a reliable dose: in the rainy season the box should only take
well water."""

CERAMIC = """\
## Summary

**Ceramic pot filters** made by the pottery in Ndole, two villages away, and sold to every
household with a 20 L bucket and a tap. The potters already make water jars from the same clay:
the filter is one new product for them, not a new industry.

## How the pot works

- Clay is mixed with **sawdust, about half and half by volume**, and fired; the sawdust burns out
  and leaves pores of about one micron, smaller than most bacteria.
- The fired pot is painted with **colloidal silver**, which kills bacteria caught in its walls.
- The pot sits in the bucket's mouth; water poured into it seeps through at **1–3 L an hour**,
  so filling it each morning and evening gives a household 20–25 L a day.

## Numbers

| | cost |
|---|---|
| pot, made in Ndole | €4.00 |
| 20 L bucket with lid and tap | €3.50 |
| colloidal silver per pot | €0.30 |
| **set, first year** | **€7.80** |
| pot and silver replaced every 2 years | €2.15 a year |
| **per person per year, over 10 years** | **€0.50** |

Ndole's two kilns can fire about **40 pots a week**: the whole village in under three weeks.

## What the pottery needs

- A press mould (€150), so that every wall is an even 15 mm.
- A two-day training by a filter-pottery network; we have a contact in the region.
- A quality test for every pot: filled with water, a good pot drips 1–3 L in the first hour.
"""

CERAMIC_FIRING = """\
- A firing at **850–900 °C**: cooler and the pot stays soft; hotter and the pores close.
- Two quality tests for every pot: filled with water, a good pot drips 1–3 L in the first hour;
  and held under water while air is blown into it, it shows **no stream of bubbles**. A stream
  means a hairline crack that bacteria can pass through."""


def _water(w: _World) -> None:
    c = w.challenge(
        slug=WATER,
        organiser="marta",
        created=33,
        closes_in=26,
        title="Low-cost water filtration for a village of 500",
        summary=(
            "Safe drinking water for 500 people from shallow wells and a seasonal river, for "
            "under €4 per person per year, built and maintained by the village itself."
        ),
        problem=WATER_PROBLEM,
        context=WATER_CONTEXT,
        criteria=[
            (
                "Removes pathogens",
                "At least 99 % E. coli reduction in field tests, and muddy river water made clear.",
            ),
            (
                "Affordable to run",
                "Under €4 per person per year including replacement parts, at local prices.",
            ),
            (
                "Maintained locally",
                "Built and repaired with skills, tools and materials found within a day's travel.",
            ),
            (
                "Verifiable",
                "A simple way for the village to check, month after month, that it still works.",
            ),
        ],
        values=("real-world-impact", "care-for-the-commons"),
        tags=["Water", "Low-tech", "Public health"],
    )
    w.thread(
        c,
        ("li", 31.6, "Is river water in scope all year, or only in the dry season? The 180 NTU "
         "readings look like samples taken after rain."),
        ("marta", 31.3, "All year. The 180 NTU readings were taken after rain in April; in the dry "
         "season the river runs at 20–40 NTU. Households switch to the river when the wells run "
         "low, which is also when the wells are dirtiest."),
        ("li", 30.9, "Then any answer needs a settling step before the fine filter. I'll add one "
         "to the biosand design."),
    )  # fmt: skip

    biosand = w.solution(c, "li", 31.5, "Household biosand filter from a 200 L drum", BIOSAND)
    w.revise(
        biosand,
        29.8,
        "Tighten the sand spec (0.15–0.35 mm) and add a flow check: too-coarse sand is the "
        "commonest failure in field studies",
        (
            "| fine sand, under 0.7 mm, 40 cm layer | river, sieved and washed | €0.00 |",
            "| fine sand, 0.15–0.35 mm effective size, 40 cm | river, sieved twice, washed "
            "| €0.00 |",
        ),
        (
            "3. Place the diffuser plate so that pouring does not dig a hole in the sand.\n"
            "4. Pour 20 L",
            BIOSAND_FLOW_CHECK,
        ),
    )
    w.thread(
        biosand,
        ("amina", 29.2, "How heavy is a filled drum? People here move house more often than "
         "you would think."),
        ("li", 29.0, "Around 350 kg with sand and water. It stays where it is built: moving it "
         "means emptying it and waiting three weeks for the biological layer to grow again."),
        ("amina", 28.7, "That settles it for me: one shared bank at the school, where nobody has "
         "to move it. I'm forking this to work it out."),
    )  # fmt: skip

    # Generation 1: a shared bank at the school.
    bank = w.fork(
        biosand,
        "amina",
        28.5,
        "Shared biosand bank at the school",
        (
            "slow sand filter scaled down to one household.",
            "slow sand filter scaled down to a barrel. Instead of 96 filters in 96 homes, we "
            "build a\n**bank of 12 of them at the school**, where someone is on site every day.",
        ),
        ("## What you need per filter", "## What you need per filter (×12)"),
        (
            "A household of five needs about\n20 L of drinking water a day; one filter gives "
            "around 30 L an hour.",
            "The village needs about 2,000 L\nof drinking water a day (4 L a person); twelve "
            "filters running six hours give about 2,100 L.",
        ),
        append=SCHOOL_BANK,
        message="Adapt to one shared bank at the school: siting, opening hours and costs for "
        "12 filters",
    )
    w.revise(
        biosand,
        25.4,
        "Add a settling step for muddy river water, and the cost per person per year (€0.45)",
        append=BIOSAND_COSTS,
    )

    # Generation 2: the savings group runs the bank on a rota. Offered upstream, declined.
    rota = w.fork(
        bank,
        "sofia",
        24.0,
        "Biosand bank with a caretaker rota",
        (
            "- Open **6–9 a.m. and 4–7 p.m.**; the caretaker fills the filters from the settling "
            "tank at\n  midday, when the school is in session and the well is free.",
            "- Open **6–9 a.m. and 4–7 p.m.**, staffed by two members of the savings group on a "
            "rota\n  (below); the morning pair fills the filters from the settling tank at "
            "midday.",
        ),
        (
            "which pays the caretaker a monthly bonus and feeds a fund for replacement drums.",
            "which is shared between the members on shift and a fund for replacement drums.",
        ),
        append=ROTA,
        message="Replace the single caretaker with a rota run by the savings group",
    )
    declined = w.propose(
        rota,
        23.1,
        "A rota, so that the bank does not close when the caretaker is ill; it also shares the "
        "fee with the people who do the work.",
    )
    w.decline(
        declined,
        21.9,
        "Thank you, this is well thought through. But at the school the caretaker is paid by the "
        "district, and the head teacher asked for one named person to be responsible for "
        "anything on school grounds: a volunteer rota would blur that. The rota fits villages "
        "without a school site better, so please keep it going in your fork.",
    )
    w.comment(
        rota,
        "marta",
        21.5,
        "For what it's worth, two of the other villages in the district have no school with a "
        "caretaker. This version is the one they'd need.",
    )

    # Generation 3: a public testing log.
    log = w.fork(
        rota,
        "jonas",
        18.6,
        "Biosand bank with a rota and a public testing log",
        append=TESTING_LOG,
        message="Add a public testing log on a blackboard by the taps",
    )
    w.comment(
        log,
        "marta",
        17.2,
        "The district health office confirmed that they will run the quarterly lab sample for "
        "free. This is exactly what the fourth criterion is about. @tomas, could your "
        "turbidity readings go on the same blackboard?",
    )

    # Generation 4: a turbidity sensor. Offered upstream, still open.
    sensor = w.fork(
        log,
        "tomas",
        14.2,
        "Biosand bank with a €9 turbidity sensor",
        append=TURBIDITY_SENSOR,
        message="Add a €9 turbidity sensor that texts the treasurer when a filter turns cloudy",
    )
    w.thread(
        sensor,
        ("li", 13.1, "Doesn't the washing-machine sensor drift once algae grow on its window?"),
        ("tomas", 12.8, "It does, about 1 NTU a week in my bucket test. The pair on shift wipes "
         "it each morning when they move the cup; I'll add that to the rota card."),
        ("sofia", 12.5, "Put it on the card as its own line, with a tick box: tasks nobody ticks "
         "are tasks nobody does."),
    )  # fmt: skip
    w.propose(
        sensor,
        12.0,
        "The sensor catches a failing filter on the same day, between strip tests. Happy to "
        "build the first one with the school's electronics club.",
    )

    # A generic improvement offered back to the original, and accepted.
    checks = w.fork(
        biosand,
        "jonas",
        20.3,
        "Biosand filter, with a monthly water test",
        ("## Cost per person per year", BIOSAND_CHECKS),
        message="Add daily, weekly and monthly checks so that the village knows the filter "
        "still works",
    )
    accepted = w.propose(
        checks,
        19.9,
        "This answers the 'Verifiable' criterion: three checks that need no laboratory, and what "
        "to do when one fails. The rest of the text is unchanged.",
    )
    w.accept(accepted, 18.4)
    w.comment(
        biosand,
        "li",
        18.3,
        "Merged Jonas's checks: thank you. The card taped to the drum is a much better idea than "
        "the logbook I had in mind.",
    )
    w.fork(
        biosand,
        "sofia",
        9.5,
        "Biosand filter build guide for a half-day workshop",
        append=WORKSHOP,
        message="Turn the build into a half-day workshop for ten households",
    )

    uv = w.solution(c, "tomas", 27.0, "Solar UV-LED disinfection box", UV_BOX)
    w.thread(
        uv,
        ("sofia", 25.8, "What happens on the third cloudy day in the rainy season?"),
        ("tomas", 25.5, "The battery covers two. On the third, the float switch still lets water "
         "through with the LEDs off: I need an interlock that closes the valve. Good catch."),
    )  # fmt: skip
    w.revise(
        uv,
        24.7,
        "Add settling and a cloth pre-filter: UV does almost nothing in turbid water",
        ("UV only works in clear water: particles shade pathogens from the light.", UV_TURBID),
    )
    w.fork(
        uv,
        "jonas",
        22.0,
        "UV box with a ceramic pre-filter",
        (
            "2. **Strain through a folded sari cloth**, four layers, into the box's inlet funnel.",
            "2. **Pass it through a ceramic candle** (€6, from the Ndole pottery): it brings "
            "turbidity\n   below 2 NTU and removes most bacteria on its own, so that UV becomes "
            "a second barrier\n   rather than the only one.",
        ),
        (
            "Even then, 30 NTU is too turbid for a reliable dose: in the rainy season the box "
            "should only take\nwell water.",
            "With the candle in front, the box can take river water all year.",
        ),
        (
            "| **total** | **€79.50** |",
            "| ceramic candle pre-filter | €6.00 |\n| **total** | **€85.50** |",
        ),
        (
            "ten boxes\nserve the village: €795, or €1.59 per person up front.",
            "ten boxes\nserve the village: €855, or €1.71 per person up front.",
        ),
        message="Put a ceramic candle in front of the UV: a second barrier, and river water "
        "all year",
    )
    w.comment(
        uv,
        "tomas",
        11.8,
        "I'm withdrawing this. On the bench, the 275 nm LEDs I can buy lost 30 % of their output "
        "in 1,000 hours, so the dose quietly drops below what stops *Cryptosporidium*, with "
        "nothing the village can see or measure. And the nearest seller of UV-C LEDs is two days "
        "away. It fails 'maintained locally' and 'verifiable'. Jonas's fork keeps the ceramic "
        "candle as the first barrier, which is the part worth keeping.",
    )
    w.withdraw(uv, by="tomas", day=11.7)

    ceramic = w.solution(c, "amina", 26.1, "Ceramic pot filters from the Ndole pottery", CERAMIC)
    w.revise(
        ceramic,
        23.3,
        "Add the firing temperature and a bubble test for hairline cracks",
        (
            "- A quality test for every pot: filled with water, a good pot drips 1–3 L in the "
            "first hour.",
            CERAMIC_FIRING,
        ),
    )
    w.comment(
        c,
        "jonas",
        20.8,
        "Could the health office share the raw test results? I'd like to see whether the "
        "contamination tracks rainfall.",
    )


# =============================================================================================
# 2. Participatory budget (selecting: the deadline passed two days ago)
# =============================================================================================

BUDGET_PROBLEM = """\
Since 2021 the town of Valmora (38,000 people, 31,000 adults) has set aside **€400,000 a year**
for projects chosen by residents. The process is the textbook one: a call for ideas in February,
feasibility checks by the council's services, an online vote in May.

Turnout has never exceeded **2.1 % of adults** (650 votes last year). Voters skew older and
home-owning: 71 % of votes came from the three central districts, which hold 38 % of the
population. The two districts with the most social housing cast **fewer than 20 votes each**.
Half of the 2024 budget went to a single well-organised sports club.

We want a process that people actually take part in — above all those who never have — without
becoming so costly to run that the council quietly drops it.
"""

BUDGET_CONTEXT = """\
Participatory budgeting is supposed to give a voice to people the usual channels miss. Here it
does the opposite: it hands a second vote to the already heard.

The council's participation team is **two people** with €25,000 a year for outreach. The mayor
has said the scheme will be reviewed after the next cycle; if turnout stays below 5 %, it will
probably end.

Residents we talked to gave three reasons for not voting: they had never heard of it (most);
they did not believe the result would be built (many: two winning projects from 2022 are still
not built); and the online form needed a digital ID they do not have (some).
"""

STALLS = """\
| where | when | sessions per cycle |
|---|---|---|
| 6 launderettes | weekday evenings | 18 |
| 9 primary-school gates | 8:15–9:00 and 15:00–15:45 | 27 |
| Saturday market | 9:00–13:00 | 4 |
| bus station and clinic | weekday mornings | 10 |
| mosque, two churches, gurdwara | after the main services | 8 |
| **total** | | **67** |"""

VILLAGE_STALLS = """\
| where | when | sessions per cycle |
|---|---|---|
| weekly markets in 3 market villages | market mornings | 12 |
| co-op grain store | Friday afternoons | 4 |
| school bus stops, 9 villages | 7:30–8:00 | 18 |
| **total** | | **34** |"""

LAUNDERETTE = f"""\
## The idea in one line

Stop asking people to come to the budget. **Take the budget to where people already wait**:
launderettes, school gates, the Saturday market, the bus station, the clinic, places of worship.

## Budget stalls

A folding table, a banner, a box of paper ballots with a **picture of every project**, and two
people: one council officer or trained volunteer, and one resident of the district.

{STALLS}

## How voting works at a stall

1. Show any proof of address, *or* just say which street you live on: the list of streets per
   district is on the table. No digital ID.
2. Pick up to three projects by putting stickers on their pictures; the ballot is folded into
   the box.
3. Take a card with a QR code to check, in June, what won and when it will be built.

## Expected turnout

Pop-up voting pilots elsewhere collected **40–90 votes per session**. At 60 per session, 67
sessions bring about **4,000 votes**; with last year's 650 online votes, that is about 15 % of
adults, with the stalls placed deliberately in the districts that voted least.
"""

PAST_PROJECTS = """\
## What happened to last year's projects

Every stall carries a board with **every past winning project and its status**: built, being
built, delayed (with the reason and a new date), or cancelled (with the reason). The two 2022
projects that were never built are on it, in red, with the council's explanation.

People told us they don't vote because nothing gets built. Hiding the failures would confirm
that; showing them is the cheapest way to earn a second look.

## How voting works at a stall"""

STALL_COSTS = """\
## Cost

| item | cost |
|---|---|
| 8 stall kits (table, banner, ballot boxes) | €2,400 |
| printing: ballots, pictures, project boards | €3,800 |
| stipends, 67 sessions × 2 people × €40 | €5,360 |
| counting evenings with observers | €1,200 |
| translation into 5 languages | €2,000 |
| **total** | **€14,760** |

That leaves about €10,000 of the €25,000 outreach budget for the phase that collects ideas.

## Ring-fencing

Each of the eight districts gets **at least €30,000** of the €400,000; the remaining €160,000 is
allocated town-wide. A district where almost nobody votes still gets its share, decided by the
people who did: a reason to come.
"""

SMS_VOTING = """\
## Summary

Let people vote **by text message**, from any phone, with paper ballots in the six public
libraries for those without one. Online voting stays for those who like it.

## How it works

1. Each project gets a short number (e.g. **14 — Shade trees on Calle Mayor**), printed on
   posters, on a flyer in every letterbox and read out in the local radio's evening bulletin.
2. A resident texts `VOTE 14 22 31` to the council's shortcode **2025**.
3. The first time a number votes, it receives a one-time code printed on the **census letter**
   that every registered household received in January; texting the code back confirms the vote.
4. One vote per phone number per cycle; the count is public and updates every hour.

## Costs

| item | cost |
|---|---|
| shortcode rental, 4 weeks | €1,200 |
| SMS, 2 per vote, 5,000 votes | €500 |
| flyer to 15,500 letterboxes | €3,100 |
| radio spots | €1,500 |
| **total** | **€6,300** |

## Why SMS

94 % of adults in the region have a mobile phone; 63 % have a smartphone. Voting by text takes
thirty seconds and needs no account.
"""

SMS_NO_CENSUS = """\
3. The first time a number votes, it is asked one question back: *which district do you live
   in?* (a numbered list). Suspicious patterns — many numbers from one prefix voting in the same
   minute — are flagged to the count's observers, never silently dropped."""

SMS_GIVE_UP = """\
## What we give up

Without the census code we cannot prove that a voter lives in Valmora. We accept that: the
stakes are a list of park benches and shade trees, not an election, and the 2024 cycle lost more
legitimate votes to the digital-ID requirement than any fraud could add.
"""

USSD = """\
## A USSD menu as well

Texting `VOTE 14 22 31` is easy to get wrong. A **USSD menu** (`*140*25#`) works on every phone,
costs the voter nothing, and walks them through three screens:

1. choose your district (1–8);
2. choose up to three projects, one at a time, from that district's numbered list;
3. confirm.

USSD sessions cost the council about €0.03 each through an aggregator: 5,000 votes add €150. In a
test with 20 residents at the day centre, 15 found the menu easier than typing a message.
"""

PANELS = """\
## The proposal

Let **half of the pot, €200,000, be decided by neighbourhood panels chosen by lottery**, and the
other half by an open vote as today.

## Panels

- One panel per district: **25 residents drawn by lot** from the electoral roll and the list of
  registered foreign residents, stratified by age, sex and housing tenure.
- Panellists are paid **€20 an hour** for four evenings, with childcare and interpreters.
- They hear from the council's engineers, visit the sites, and choose projects for their
  district worth €25,000.

## Why a lottery

| | open vote | lottery panel |
|---|---|---|
| who takes part | the already engaged | a mirror of the district |
| time spent informing a choice | minutes | 12 hours |
| cost per participant | about €2 | about €290 |
| capture by organised groups | likely | very hard |

Eight panels of 25 cost about €58,000 in stipends, childcare and facilitation. That is more than
the outreach budget, so the council would fund it from the €400,000 itself. We think a 15 %
overhead for a decision people trust is worth it.
"""


def _budget(w: _World) -> None:
    c = w.challenge(
        slug=BUDGET,
        organiser="marta",
        co_organisers=("kwame",),
        created=28,
        closes_in=10,
        title="A participatory budget people actually use",
        summary=(
            "Our town sets aside €400,000 a year for projects residents choose, but only 2.1 % "
            "of adults vote. Design a process that reaches the other 98 %."
        ),
        problem=BUDGET_PROBLEM,
        context=BUDGET_CONTEXT,
        criteria=[
            ("Reach", "A credible path to 10 % turnout, with every district above 5 %."),
            (
                "Inclusion",
                "Works for people without a digital ID, a computer, or fluency in the official "
                "language.",
            ),
            ("Trust", "Residents can see what happened to every proposal and every euro."),
            (
                "Runs on the current team",
                "Two staff and €25,000 a year for outreach, plus volunteers.",
            ),
        ],
        values=("openness", "transparent-feedback", "real-world-impact"),
        tags=["Civic tech", "Participation", "Local government"],
    )
    w.thread(
        c,
        ("jonas", 25.4, "Is the €400,000 split by district today, or all town-wide?"),
        ("marta", 25.1, "All town-wide, which is how one sports club won half of it. Proposals "
         "that ring-fence money per district are welcome."),
        ("sofia", 21.6, "Ring-fencing is in my third revision: at least €30,000 per district, "
         "the rest town-wide."),
    )  # fmt: skip

    stalls = w.solution(
        c,
        "sofia",
        26.3,
        "Budget stalls in the launderette: meet people where they already wait",
        LAUNDERETTE,
    )
    w.revise(
        stalls,
        24.2,
        "Add a board of past projects at every stall: distrust was the second reason people gave",
        ("## How voting works at a stall", PAST_PROJECTS),
    )
    w.revise(
        stalls,
        21.7,
        "Cost the stalls within the €25,000 and ring-fence €30,000 per district",
        append=STALL_COSTS,
    )
    w.comment(
        stalls,
        "li",
        19.0,
        "School gates are clever: parents of young children are the group that votes least and "
        "waits most.",
    )

    sms = w.solution(c, "jonas", 23.9, "SMS voting with a paper fallback", SMS_VOTING)
    w.thread(
        sms,
        ("sofia", 22.8, "The census-letter code shuts out everyone who moved here since January: "
         "mostly renters, in the two districts that barely vote."),
        ("jonas", 21.9, "You're right. Revision 2 drops it, and says plainly what we give up."),
    )  # fmt: skip
    w.revise(
        sms,
        22.0,
        "Drop the census-letter code: it shuts out everyone who moved here since January",
        (
            "3. The first time a number votes, it receives a one-time code printed on the "
            "**census letter**\n   that every registered household received in January; "
            "texting the code back confirms the vote.",
            SMS_NO_CENSUS,
        ),
        append=SMS_GIVE_UP,
    )

    panels = w.solution(
        c, "amina", 20.4, "Lottery-picked neighbourhood panels decide half the pot", PANELS
    )
    w.thread(
        panels,
        ("jonas", 15.3, "€290 per participant sounds expensive until you compare it with what "
         "a badly chosen €25,000 project costs."),
        ("amina", 14.9, "That's the argument I'll make to the council. And panels hear from the "
         "engineers before choosing, so fewer winners turn out to be unbuildable."),
        ("marta", 14.2, "The engineers' department has said they would rather brief 200 "
         "panellists than check 300 ideas. That helps."),
    )  # fmt: skip

    w.fork(
        stalls,
        "li",
        16.2,
        "Market-day assemblies for a rural municipality",
        (
            "Stop asking people to come to the budget. **Take the budget to where people already "
            "wait**:\nlaunderettes, school gates, the Saturday market, the bus station, the "
            "clinic, places of worship.",
            "Stop asking people to come to the budget. **Take the budget to where people already "
            "gather**.\nIn a rural municipality of nine villages, that means the weekly markets, "
            "the co-op's grain store\nand the school bus stops.",
        ),
        (STALLS, VILLAGE_STALLS),
        (
            "Pop-up voting pilots elsewhere collected **40–90 votes per session**. At 60 per "
            "session, 67\nsessions bring about **4,000 votes**; with last year's 650 online "
            "votes, that is about 15 % of\nadults, with the stalls placed deliberately in the "
            "districts that voted least.",
            "In a village the stall is an event: expect **80–120 votes a session**. At 100, 34 "
            "sessions\nbring about **3,400 votes** from 9,000 adults: more than a third.",
        ),
        (
            "That leaves about €10,000 of the €25,000 outreach budget for the phase that collects "
            "ideas.",
            "With 34 sessions, three stall kits and one language, this comes to about €6,500.",
        ),
        (
            "Each of the eight districts gets **at least €30,000** of the €400,000; the remaining "
            "€160,000 is\nallocated town-wide. A district where",
            "Each of the nine villages gets **at least €8,000** of the €120,000 budget; the "
            "remaining €48,000\nis allocated across the municipality. A village where",
        ),
        message="Adapt to a rural municipality of nine villages: market days and school bus stops",
    )
    w.fork(
        sms,
        "tomas",
        13.4,
        "SMS and USSD voting for feature phones",
        append=USSD,
        message="Add a USSD menu: it works on every phone and is harder to get wrong than free "
        "text",
    )

    # The deadline passes; the organisers start selecting.
    c = w.move(c, Status.SELECTING, by="marta", day=1.9)
    w.deadline_passed(c, 2.0)
    w.comment(
        c,
        "kwame",
        1.4,
        "The deadline has passed. Marta and I are reading every answer against the four criteria "
        "this week, and we'll post the shortlist here with our reasons.",
    )


# =============================================================================================
# 3. Bus punctuality (closed)
# =============================================================================================

BUSES_PROBLEM = """\
Riverside Transport runs 34 routes and 180 buses in a city of 250,000. Its annual report claims
**91 % punctuality**. A rider survey last autumn found that 58 % of regular riders think buses
are "often" or "always" late, and route 12's riders have started logging delays in a shared
spreadsheet: 1,400 entries so far, with a median delay of 7 minutes at peak.

Both may be right. The company measures at the terminus, with a 5-minute tolerance, over the
whole day; riders wait at stops in the middle of the route at 8 a.m.

Every bus already carries an automatic vehicle location (AVL) unit that reports its position to
the depot every 30 seconds. None of it is published. Design how punctuality data gets from the
depot to the public, in a form that riders, journalists and the council can all check.
"""

BUSES_CONTEXT = """\
The city council renews the operating contract in 18 months and wants punctuality targets in it,
but it has no independent data to set or enforce them. Riders who depend on buses are more often
older, younger, poorer or disabled; they lose most when one published average hides a bad route.

The company's IT team (three people) is willing to help, provided the work does not touch the
ticketing system and needs no new hardware on the buses.
"""

GTFS = """\
## What already exists

Every bus reports its position to the depot every 30 seconds (AVL). The depot's software matches
positions to scheduled trips for the dispatchers' screen. All the data needed is there; it just
never leaves the building.

## Publish two things

1. **A live feed in GTFS-Realtime** (`TripUpdates`, `VehiclePositions`), the open standard that
   journey planners already read: riders see real arrival times in apps they already use.
2. **A daily archive** of every scheduled stop event and its actual time, as CSV, one file a
   day, under an open licence.

The live feed helps riders today; the archive lets anyone check punctuality tomorrow.

## Archive format

| column | example |
|---|---|
| service_date | 2025-03-14 |
| route_id | 12 |
| trip_id | 12-0742-WD |
| stop_id | 4410 |
| stop_sequence | 17 |
| scheduled_departure | 08:03:00 |
| actual_departure | 08:11:40 |

## Effort

A converter reads the AVL matches from the depot database (read-only) and writes the feed and
the archive. **Estimated: 8 days** of the IT team's time, mostly testing.
"""

GTFS_DEFINITION = """\
## Punctuality, defined so that anyone can recompute it

- A departure is **on time** if it leaves between **1 minute early and 5 minutes late** at that
  stop. Early is worse than late: a rider who arrives on time has missed the bus.
- On routes every 10 minutes or better, riders don't use a timetable, so we measure **excess
  waiting time** — the average extra wait caused by irregular gaps — instead.
- Every figure is published per route, per stop, per hour and per day, with the SQL query that
  produced it.
"""

GTFS_PLAN = """\
## Effort: 10 days

| days | what |
|---|---|
| 2 | read-only replica of the AVL matches table |
| 3 | converter to GTFS-Realtime, checked with the MobilityData validator |
| 2 | nightly archive job, CSV and Parquet, on the city's open-data portal |
| 2 | punctuality dashboard built from the archive (a static site, rebuilt nightly) |
| 1 | documentation |"""

REPORT_CARD = """\
## Data is not the same as information

A feed only helps riders who have an app and know how to read a dashboard. Most riders on the
routes with the worst punctuality have neither. We propose to bring the figure to **the stop**.

## A report card at every stop

Once a month, each of the 610 stops gets an A4 card in its timetable frame:

> **Stop 4410 — Market Square, route 12 towards Hillside**
> Last month, between 7 and 9 a.m., **54 %** of buses left on time (city target: 85 %).
> Typical delay: 6 minutes. Worst day: Tuesday the 11th, 19 minutes.
> Scan the code for every hour of every day.

## Why paper

- It reaches riders who never open an app.
- It is public in a way a website is not: the councillor waiting for the bus sees it too.
- It costs about **€0.15 a card**: €92 a month for the whole network, printed by the city.

## What it needs

Per-stop data (Jonas's daily archive would do), a template, and a rota of volunteers to swap the
cards: about 40 stops each, one afternoon a month.
"""


def _buses(w: _World) -> None:
    c = w.challenge(
        slug=BUSES,
        organiser="marta",
        created=29.5,
        closes_in=5,
        title="Open data for bus punctuality",
        summary=(
            "The bus company says 91 % of buses are on time; riders say otherwise. Publish "
            "punctuality data that anyone can check, from the systems the company already has."
        ),
        problem=BUSES_PROBLEM,
        context=BUSES_CONTEXT,
        criteria=[
            (
                "Independently checkable",
                "Anyone can recompute the punctuality figures from published raw data.",
            ),
            (
                "Meaningful to riders",
                "Figures per route, per stop and per hour, not only one yearly average.",
            ),
            ("Low burden", "Runs on existing AVL data with under 10 days of the IT team's time."),
        ],
        values=("openness", "transparent-feedback"),
        tags=["Open data", "Transport", "Civic tech"],
    )
    w.thread(
        c,
        ("sofia", 27.2, "Will the company share a sample of its AVL data before the deadline?"),
        ("marta", 26.8, "They have agreed to share one week, anonymised, under a data-sharing "
         "letter. I'll post it here as soon as it arrives."),
        ("jonas", 22.5, "Got it, thanks. Route 12's 8 a.m. trips left Market Square on time "
         "54 % of the time, which matches the riders' spreadsheet surprisingly well."),
    )  # fmt: skip

    gtfs = w.solution(
        c, "jonas", 27.9, "Publish GTFS-Realtime and a daily archive from the AVL feed", GTFS
    )
    w.revise(
        gtfs,
        23.0,
        "Define punctuality per stop (−1/+5 minutes) and excess waiting time on frequent routes",
        append=GTFS_DEFINITION,
    )
    w.revise(
        gtfs,
        17.5,
        "Archive in Parquet as well as CSV, and a day-by-day plan that fits in 10 days",
        (
            "2. **A daily archive** of every scheduled stop event and its actual time, as CSV, "
            "one file a\n   day, under an open licence.",
            "2. **A daily archive** of every scheduled stop event and its actual time, as CSV "
            "and Parquet,\n   one file a day, under an open licence (CC BY 4.0).",
        ),
        (
            "## Effort\n\nA converter reads the AVL matches from the depot database (read-only) "
            "and writes the feed and\nthe archive. **Estimated: 8 days** of the IT team's time, "
            "mostly testing.",
            GTFS_PLAN,
        ),
    )
    cards = w.solution(c, "sofia", 24.6, "A punctuality report card at every stop", REPORT_CARD)
    w.comment(
        cards,
        "jonas",
        16.9,
        "I'll add a per-stop monthly extract to the archive, so that the cards can be generated "
        "straight from it.",
    )
    w.fork(
        gtfs,
        "tomas",
        12.6,
        "GTFS-Realtime for a town whose buses have no AVL",
        (
            "Every bus reports its position to the depot every 30 seconds (AVL). The depot's "
            "software matches\npositions to scheduled trips for the dispatchers' screen. All the "
            "data needed is there; it just\nnever leaves the building.",
            "Adapted for Porto Alto, a town of 60,000 whose 40 buses have **no AVL at all**. Each "
            "bus gets a\n€25 GPS tracker on the dashboard's USB port, reporting every 15 seconds "
            "over a €2 data SIM;\na small open-source server matches positions to scheduled "
            "trips.",
        ),
        ("## Effort: 10 days", "## Effort: 13 days, and €1,000 of trackers"),
        (
            "| 2 | read-only replica of the AVL matches table |",
            "| 3 | fit 40 trackers (two mechanics, in the depot's quiet hours) |\n"
            "| 2 | trip matching on the server, tuned on a week of data |",
        ),
        message="Adapt to a town without AVL: €25 GPS trackers and open-source trip matching",
    )

    c = w.move(c, Status.SELECTING, by="marta", day=8.9)
    c = w.move(c, Status.CLOSED, by="marta", day=4.2)
    w.deadline_passed(c, 9.0)
    w.comment(
        c,
        "marta",
        4.1,
        "Closed. We recommended Jonas's feed and archive together with Sofia's report cards to "
        "the council as one package; the IT team starts in May. Thank you all. Tomás's fork for "
        "buses without AVL has already been picked up by a neighbouring town.",
    )


# =============================================================================================
# 4. Food shed (open)
# =============================================================================================

FOOD_PROBLEM = """\
Brenford (60,000 people) eats around **27,000 tonnes of fresh food a year**: vegetables, fruit,
dairy, eggs and meat. Less than **6 %** of it is grown within 50 km, although the surrounding
countryside holds about 140 farms, many of them small mixed holdings.

The farms sell mostly to one wholesaler at prices set 200 km away; the town buys from three
supermarket chains supplied through national distribution centres. A weekly farmers' market has
22 stalls and serves mainly better-off households.

The missing pieces are not land or farmers but the **middle**: aggregation, cold storage,
logistics, and buyers who commit to volumes. Design that middle, so that a third of the town's
fresh food can come from within 50 km by 2030.
"""

FOOD_CONTEXT = """\
Last winter's price shocks hit Brenford hard: the food bank's caseload rose from **1,100 to
1,900 households** in a year. Meanwhile 31 farms in the district closed or were sold in the last
decade, and the average farmer is 58.

A local food system keeps more of each euro in the region, shortens the chain when national
logistics falter, and gives young growers a way in. It only works if it is cheaper to run than
it looks: most food hubs that failed did so on logistics costs, not on demand.

The council owns an empty 1,800 m² depot by the ring road and has offered it rent-free for five
years.
"""

FOOD_TABLE = """\
| sector | farms | main produce | fresh output (t/yr) |
|---|---|---|---|
| north (river plain) | 46 | vegetables, potatoes | 5,200 |
| east (hills) | 31 | dairy, eggs, apples | 3,900 |
| south (mixed) | 38 | mixed, meat, grain | 4,600 |
| west (market gardens) | 25 | salad, soft fruit | 1,700 |
| **total** | **140** | | **15,400** |"""

HILL_TABLE = """\
| side of the ridge | farms | main produce | fresh output (t/yr) |
|---|---|---|---|
| valley floor | 41 | vegetables, fruit, dairy | 3,100 |
| upland | 27 | sheep, cheese, potatoes | 1,400 |
| **total** | **68** | | **4,500** |"""

FOOD_MAP = f"""\
## Where the food could come from

We drew 50 km around Brenford's town hall and counted farms from the agricultural census and the
co-ops' member lists.

{FOOD_TABLE}

The food shed already grows more than half of what the town eats fresh; most of it leaves for
the national wholesaler and comes back, if at all, through a distribution centre.

## Four hubs

Each sector gets a **collection hub** at an existing farm or co-op shed, within 20 minutes'
drive of every farm in it. Farmers deliver twice a week; a shared truck runs each hub to town.

## One market, many buyers

- the Saturday market, expanded from 22 to 40 stalls;
- school and hospital kitchens (see Sofia's answer);
- a **box scheme** with a sliding price for food-bank households;
- two independent grocers, and one supermarket branch that asked to take part.
"""

FOOD_DEPOT = """\
Farmers deliver twice a week; a shared truck runs each hub to the **council depot by the ring
road**, which becomes the cross-dock where orders are sorted.

## The depot

| item | cost |
|---|---|
| 2 cold rooms, 60 m² each, second-hand panels | €48,000 once |
| loading dock repairs and pallet racking | €22,000 once |
| refrigerated 7.5 t truck, leased | €21,000 a year |
| staff: 1 manager, 3 pickers and drivers | €150,000 a year |

Rent is free for five years; power for the cold rooms is about €9,000 a year."""

FOOD_RAMP = """\
## Ramp to 2030

| year | tonnes through the hub | share of fresh food | turnover | costs, % of turnover |
|---|---|---|---|---|
| 2026 | 1,200 | 4 % | €2.6 m | 25 % |
| 2027 | 3,000 | 11 % | €6.5 m | 17 % |
| 2028 | 5,500 | 20 % | €11.9 m | 14 % |
| 2030 | 9,000 | 33 % | €19.5 m | 12 % |

At an average wholesale value of about €2.17 a kilo, the hub passes the 15 % cost line in its
third year. Farmers keep about 55 % of the retail price, against about 25 % through the
wholesaler.
"""

MILK_RUN = """\
## Thirty farms, thirty vans

Today most farms that sell in town drive their own van in: **30 farms, 30 round trips**, often
half empty, averaging 74 km each. That is about 2,200 km every market day, and a morning lost on
every farm.

## A milk run

One shared van per route collects from the farm gates on a fixed timetable, like a milk round:

| route | farms | distance | departs | arrives at the depot |
|---|---|---|---|---|
| north loop | 9 | 82 km | 5:30 | 8:10 |
| east hills | 7 | 96 km | 5:15 | 8:20 |
| south | 8 | 71 km | 5:45 | 8:05 |
| west gardens | 6 | 38 km | 6:30 | 7:40 |
| **total** | **30** | **287 km** | | |

From 2,200 km to **287 km per market day**: 87 % fewer kilometres.

## Sharing the cost

Each farm pays per crate, not per kilometre, so that remote farms are not priced out:
**€1.10 a crate** covers the van lease, fuel and a driver at €15 an hour.

## Tools

A shared spreadsheet is enough for the first season: farms text their crate counts by 8 p.m. the
evening before.
"""

CANTEENS = """\
## An anchor customer

A food hub fails when its volumes are uncertain. Brenford's **23 schools serve 6,400 lunches a
day**, 180 days a year: about **300 tonnes of fresh food a year**, bought today through one
national catering contract that ends in 2026.

## Split the contract

Public procurement rules allow a contract to be split into **lots**. We propose:

- lot 1: fresh vegetables and fruit, grown within 50 km (about 180 t);
- lot 2: dairy and eggs, from within 50 km (about 90 t);
- lot 3: everything else, national as today.

Lots 1 and 2 are sized so that the hub, not individual farms, can bid for them.

## Menus that follow the seasons

Cooks get a **seasonal menu cycle** designed with the hub's planting plan: squash and apples in
October, spinach and rhubarb in May. A menu that asks for tomatoes in February cannot be met
locally at any price.

## Cost

The council's catering budget is €2.80 a meal. Fresh local produce costs about 8 % more, or
€0.09 a meal; cooking fresh wastes less, which covers most of it.
"""

HOSPITAL = """\
## The hospital kitchen

St Anne's hospital serves **1,100 meals a day, 365 days a year**: about **160 tonnes of fresh
food**. It matters more than its size suggests: schools close for the summer, exactly when
vegetables peak, and the hospital evens out the hub's year.

| month | schools (t) | hospital (t) | together (t) |
|---|---|---|---|
| March | 33 | 13 | 46 |
| July | 0 | 14 | 14 |
| August | 0 | 14 | 14 |
| October | 33 | 13 | 46 |

The hospital's contract is separate from the schools' but ends the same year; both can be split
into lots the same way.
"""


def _food(w: _World) -> None:
    c = w.challenge(
        slug=FOOD,
        organiser="marta",
        created=20.5,
        closes_in=40,
        title="A 50 km food shed for a mid-sized town",
        summary=(
            "Feed a town of 60,000 with a third of its fresh food grown within 50 km, at prices "
            "that work for farmers and for low-income households alike."
        ),
        problem=FOOD_PROBLEM,
        context=FOOD_CONTEXT,
        criteria=[
            (
                "Volume",
                "A credible path to a third of fresh food (about 9,000 t a year) from within "
                "50 km by 2030.",
            ),
            (
                "Fair prices",
                "Farmers get at least half of the retail price; food-bank and low-income "
                "households are served.",
            ),
            ("Running costs", "Hub and logistics costs under 15 % of turnover by year three."),
        ],
        values=("real-world-impact", "care-for-the-commons"),
        tags=["Food", "Local economy", "Logistics"],
    )
    w.thread(
        c,
        ("amina", 19.6, "Does 'fresh food' in the 27,000 t include milk? It is about a third of "
         "the weight."),
        ("marta", 19.3, "Yes, milk and dairy are included; grain and processed food are not."),
        ("jonas", 18.8, "Then the east hills' dairies matter more than their number of farms "
         "suggests. Worth weighting the map by tonnes, not by farms."),
    )  # fmt: skip

    shed = w.solution(
        c, "amina", 19.0, "Four hubs and one depot: mapping the 50 km food shed", FOOD_MAP
    )
    w.revise(
        shed,
        16.4,
        "Use the council's depot as the cross-dock, and add the cold rooms and running costs",
        (
            "Farmers deliver twice a week; a shared truck runs each hub to town.",
            FOOD_DEPOT,
        ),
    )
    w.comment(
        shed,
        "marta",
        15.8,
        "The depot is yours if the council's property committee agrees on the 14th. I'll report "
        "back here.",
    )
    w.revise(
        shed,
        11.2,
        "Add the volume ramp to 2030 and when costs fall under 15 % of turnover",
        append=FOOD_RAMP,
    )

    vans = w.solution(c, "jonas", 17.1, "A shared van schedule for 30 farms", MILK_RUN)
    w.thread(
        vans,
        ("amina", 16.0, "A flat €1.10 a crate is fair to remote farms, but the west gardens "
         "drive 38 km in all: they'll be paying for the east hills. Are they fine with that?"),
        ("jonas", 15.6, "I asked two of them: yes, if they get the later pickup. That's why "
         "their run leaves at 6:30."),
    )  # fmt: skip

    canteens = w.solution(
        c,
        "sofia",
        15.2,
        "School canteens buy first: public procurement as the anchor customer",
        CANTEENS,
    )
    hospital = w.fork(
        canteens,
        "amina",
        12.1,
        "School canteens and the hospital kitchen as anchor customers",
        (
            "Lots 1 and 2 are sized so that the hub, not individual farms, can bid for them.",
            "Lots 1 and 2 are sized so that the hub, not individual farms, can bid for them.\n\n"
            + HOSPITAL.strip(),
        ),
        message="Add the hospital kitchen: it keeps buying in July and August, when schools are "
        "closed and harvests peak",
    )
    offer = w.propose(
        hospital,
        11.9,
        "The hospital fills the summer gap that makes a schools-only anchor fragile. Nothing "
        "else changes.",
    )
    w.accept(offer, 10.6)

    w.fork(
        shed,
        "li",
        7.3,
        "A 45-minute food shed for a hill town, with two hubs",
        (
            "We drew 50 km around Brenford's town hall and counted farms from the agricultural "
            "census and the\nco-ops' member lists.",
            "Adapted to Castelmonte, a hill town of 18,000 where the valley floor is 35 km away "
            "by winding\nroads: we drew the shed by **driving time (45 minutes)**, not by "
            "distance.",
        ),
        (FOOD_TABLE, HILL_TABLE),
        ("## Four hubs", "## Two hubs"),
        (
            "Each sector gets a **collection hub**",
            "Each side of the ridge gets a **collection hub**",
        ),
        ("**council depot by the ring\nroad**", "**old railway goods shed**"),
        (
            "- the Saturday market, expanded from 22 to 40 stalls;",
            "- the Thursday market, which already has 30 stalls;",
        ),
        (
            "## Ramp to 2030",
            "## Ramp to 2030\n\n*Brenford's figures, kept for comparison: Castelmonte's are "
            "about 30 % of them.*",
        ),
        message="Adapt to Castelmonte: a hill town, a shed drawn by driving time, two hubs",
    )


# =============================================================================================
# 5. Flood early warning (open)
# =============================================================================================

FLOOD_PROBLEM = """\
The Arda valley has 12 villages along 30 km of a steep river. Flash floods after summer storms
rise **1.5 m in under an hour**; the nearest national gauge is 40 km downstream and reports every
15 minutes to a website that nobody in the valley watches at 3 a.m.

We need an early-warning system that the valley can build and run itself:

- a chain of river-level stations upstream of the villages, each under **€40** in parts, built
  largely from salvaged electronics (old phones, car parking sensors, cells from scrap);
- alerts that reach every household, including those without a smartphone, at night;
- at least **two hours' warning** for the lowest village.
"""

FLOOD_CONTEXT = """\
In 2023 a night-time flash flood killed two people and flooded 140 homes in the lower valley.
The water rose first in the upper tributaries, nearly three hours before it reached the lowest
village; nobody downstream knew.

Commercial telemetry gauges cost €3,000–8,000 each, and the regional budget covers two. The
valley has a volunteer fire brigade of 30, a secondary school with an electronics club, and a
repair café (run by one of our organisers) that collects old phones by the box.

Whatever is built must survive a winter outdoors, keep working through a two-day power cut, and
not cry wolf: after three false alarms, people stop listening.
"""

GAUGE = """\
## Station

| part | source | cost |
|---|---|---|
| ultrasonic ranger from a car parking sensor, or a new JSN-SR04T | scrapyard, or €7 | €0–7 |
| old Android phone (Android 8 or later) as logger and modem | donated | €0 |
| USB-OTG serial adapter | new | €2.50 |
| 10 W panel and a salvaged car battery | scrapyard | €8.00 |
| pipe-clamp bracket, bolted under a bridge deck | scrap steel | €3.00 |
| **total parts** | | **€13.50–20.50** |

Running cost: a prepaid SIM with an SMS bundle, €3 a month.

The sensor points down at the water from a bridge deck and measures the distance to the surface
every 5 minutes; the river level is the bridge's height minus that distance.

## Software

A 300-line open-source Android app reads the sensor over USB, keeps a 30-day log, and texts the
valley's warning number when:

- the level rises above a **threshold** set for each station, or
- it rises faster than **30 cm in 15 minutes**, whatever the level.

## Stations

Five stations on the upper tributaries, 1.5–3 hours' flow time above the lowest village.
"""

GAUGE_TEMPERATURE = """\
- it rises faster than **30 cm in 15 minutes**, whatever the level.

Sound travels about 0.6 m/s faster for every °C: between a −5 °C night and a 30 °C afternoon,
the reading over a 5 m drop drifts by **about 30 cm**, enough to trigger the rate rule on its
own. A DS18B20 temperature probe (€1.20) taped to the bracket lets the app correct each reading.
Each reading is also the median of 7 pings, and readings whose spread exceeds 10 cm (heavy rain
scatters the echo) are logged but not used."""

GAUGE_TWO_OF_THREE = """\
## Against false alarms

A single sensor will sooner or later see a branch, a bird or a sheet of foam. The warning number
therefore raises the **valley alarm only when two of three signals agree** within 30 minutes:

1. a station above its threshold or rising fast;
2. a second station on the same tributary doing the same;
3. the school-roof rain gauges reporting more than 40 mm in an hour (see Li's answer).

A single signal sends a *watch* message to the fire brigade's duty officer, nothing more.
"""

GAUGE_FIELD_TEST = """\
## Field test: Sella bridge, 21 days

| | |
|---|---|
| readings | 6,048 (every 5 minutes) |
| missing readings | 37 (0.6 %), all during one phone reboot |
| error against the painted staff gauge, 12 spot checks | median 1.8 cm, worst 4.5 cm |
| largest rise | 62 cm in 2 hours, after a 31 mm storm |
| *watch* messages | 1 (foam after the storm) |
| valley alarms | 0 |
"""

RAIN_GAUGES = """\
## Rain is the first signal

Water takes 1.5–3 hours to travel from the upper tributaries to the lowest village. **Rain** over
the upper catchment shows up before that: in the 2023 flood, 48 mm fell in 70 minutes above Sella
before the river began to rise.

## Tipping-bucket gauges on school roofs

The valley has four schools on its upper slopes. On each roof, a **tipping-bucket rain gauge**:

- a funnel of 200 cm² (a cut 2 L bottle) drains onto a see-saw bucket that tips every 0.2 mm;
- each tip passes a magnet from a scrapped hard disk over a reed switch;
- an ESP8266 counts the tips and sends a reading every 10 minutes over the school's Wi-Fi.

Cost per gauge: **about €9**, built by the school's electronics club.

## Thresholds

| rain in 1 hour | meaning | action |
|---|---|---|
| 15 mm | heavy | logged |
| 25 mm | intense | *watch* message to the fire brigade |
| 40 mm | 2023-type | one signal towards the valley alarm |

Rain gauges cannot say how high the river will rise, only that it might. They are the early,
uncertain signal that buys the river stations time to confirm.
"""

WARNING_CHAIN = """\
## A warning is a chain of people

Sensors do not save lives; people acting on them do. In 2023 the water was visible upstream three
hours before it reached the lowest village. What was missing was **who tells whom**.

## Levels

| level | trigger | who is told | what they do |
|---|---|---|---|
| watch | one signal | fire brigade's duty officer | checks the stations, calls the upstream mayor |
| warning | two signals agree | all 12 mayors, brigade, school heads | open shelters, wake wardens |
| evacuate | river station at the red mark | everyone | move to the shelters on high ground |

## Street wardens

One volunteer per **20 households**, 48 in all, each with a list of neighbours who need help to
move: older people, people with disabilities, families with newborns. The warden knocks on those
doors first.

## Practise

A drill every May, and at night every other year. A chain that has never been used does not work
on the night.
"""

BELLS = """\
## Reaching everyone at 3 a.m.

Phones are on silent at night. Every village in the valley has a church bell, and every older
resident knows what fast single strokes mean. So:

- **Bells** for the evacuate level: the warden nearest each church holds a key; the signal is
  three minutes of fast strokes, practised every May.
- **WhatsApp groups**, one per village, run by the wardens, for the watch and warning levels:
  most households already belong to one for the village festival.
- **A landline phone tree** for the 60 households without a mobile, drawn from the wardens'
  lists.
- **The campsite** in the lower valley (300 pitches in August) is on the warning list; its night
  manager sounds the site's own siren.
"""


def _flood(w: _World) -> None:
    c = w.challenge(
        slug=FLOOD,
        organiser="kwame",
        created=18.5,
        closes_in=35,
        title="Flood early warning from scrap sensors",
        summary=(
            "Give a valley of 12 villages two hours' warning of flash floods, with river "
            "stations built from scrap and old phones for under €40 each."
        ),
        problem=FLOOD_PROBLEM,
        context=FLOOD_CONTEXT,
        criteria=[
            (
                "Warning time",
                "At least two hours' warning for the lowest village in a 2023-type event.",
            ),
            ("Cost per station", "Under €40 in parts per river station, mostly salvaged."),
            ("Reaches everyone", "Alerts reach households without smartphones, at night."),
            ("Few false alarms", "Under one false alarm per season, by design and by test."),
        ],
        values=("real-world-impact", "building-on-each-other", "openness"),
        tags=["Open hardware", "Sensors", "Disaster risk"],
    )
    w.thread(
        c,
        ("sofia", 16.4, "Does 'reaches everyone' include visitors? The campsite in the lower "
         "valley has 300 pitches in August."),
        ("kwame", 16.1, "Yes, and good point: the campsite is inside the 2023 flood zone."),
        ("sofia", 15.7, "Then the campsite belongs on the warning chain. I'll fork Amina's "
         "answer and add it."),
    )  # fmt: skip

    gauge = w.solution(
        c, "tomas", 17.6, "River gauge from a car parking sensor and an old Android phone", GAUGE
    )
    w.thread(
        gauge,
        ("li", 16.9, "Do you filter the ultrasonic readings? Rain on the water surface scatters "
         "the echo."),
        ("tomas", 16.5, "Not yet. I'll take the median of several pings and log their spread."),
        ("li", 16.2, "The spread itself could then double as a crude rain signal at stations "
         "without a gauge."),
    )  # fmt: skip
    w.revise(
        gauge,
        15.9,
        "Correct for air temperature (30 cm of drift over a 5 m drop) and filter pings by their "
        "spread",
        (
            "| pipe-clamp bracket, bolted under a bridge deck | scrap steel | €3.00 |\n"
            "| **total parts** | | **€13.50–20.50** |",
            "| pipe-clamp bracket, bolted under a bridge deck | scrap steel | €3.00 |\n"
            "| DS18B20 temperature probe | new | €1.20 |\n"
            "| **total parts** | | **€14.70–21.70** |",
        ),
        ("- it rises faster than **30 cm in 15 minutes**, whatever the level.", GAUGE_TEMPERATURE),
    )
    rain = w.solution(c, "li", 15.0, "Rain gauges on school roofs as the first signal", RAIN_GAUGES)
    # Real artefacts (challenges.demo_files): a drawing, two days of readings, a chart and the
    # firmware; then a fork that changes only the drawing.
    w.revise(
        rain,
        14.4,
        "The drawing, two days of readings from the upper school and the firmware",
        append=demo_files.RAIN_GAUGE_FILES_TEXT,
        uploads=demo_files.rain_gauge_files(w.at(16.0).replace(minute=0, second=0, microsecond=0)),
    )
    w.fork(
        rain,
        "jonas",
        12.4,
        "Rain gauge with a leaf mesh on the funnel",
        message="Leaf mesh over the funnel, which the electronics club found it needs",
        uploads=[
            demo_files.upload("rain-gauge-section.png", demo_files.rain_gauge_diagram(mesh=True))
        ],
    )
    w.revise(
        gauge,
        13.8,
        "Two-out-of-three rule: a valley alarm only when a second station or the rain gauges agree",
        append=GAUGE_TWO_OF_THREE,
    )
    w.comment(
        rain,
        "kwame",
        12.2,
        "The electronics club at the upper school has built the first two gauges. They tip "
        "nicely; the funnel needs a mesh against leaves.",
    )

    chain = w.solution(
        c, "amina", 17.0, "Warning chain: who calls whom when the river rises", WARNING_CHAIN
    )
    w.fork(
        chain,
        "sofia",
        15.2,
        "Warning chain with church bells and village WhatsApp groups",
        (
            "| evacuate | river station at the red mark | everyone | move to the shelters on "
            "high ground |",
            "| evacuate | river station at the red mark | everyone, **by church bell** | move to "
            "the shelters |",
        ),
        append=BELLS,
        message="Add bells for the 3 a.m. evacuate signal, WhatsApp groups for the earlier "
        "levels, and the campsite",
    )
    w.comment(
        chain,
        "kwame",
        11.0,
        "The fire brigade has agreed to host the warning number at their station, and to run "
        "the first drill in May.",
    )
    w.refs.update(flood=c, gauge=gauge)


# =============================================================================================
# 6. Solar lantern (open)
# =============================================================================================

LANTERN_PROBLEM = """\
Cheap solar lanterns have lit millions of homes without a grid connection. They also fail. In
our repair cafés' records, **around 40 % of the lanterns brought in were under two years old**,
most often with a dead battery, a broken charging board or a cracked panel. Almost none can be
opened without breaking the case, and spare parts are not sold. A dead lantern becomes e-waste,
and the family goes back to kerosene.

We want an open-hardware lantern designed for repair from the first sketch:

- opened with a common screwdriver: no glue, no ultrasonic welds;
- built around **standard parts** (18650 cells, common LEDs, a charging circuit sold everywhere);
- repairable by a market-town phone-repair shop in **under 15 minutes**;
- **under €15 in parts** at quantities of 500.
"""

LANTERN_CONTEXT = """\
Kerosene costs a family around **€3–5 a month**, gives poor light and causes burns and indoor
air pollution. A working solar lantern pays for itself in under a year — *if it keeps working*.

Our repair-café network in three towns sees the same failures every week: swollen pouch cells,
corroded USB sockets, wires snapped at the panel. Repairers could fix most of them if they could
get inside and if the parts were standard. Phone-repair shops are everywhere and already have
the skills; what they lack is a design that lets them.

Designs must be published under an open hardware licence (CERN-OHL-S) so that any workshop can
build and sell them.
"""

LANTERN_PARTS = """\
| part | spec | why this one | cost at 500 |
|---|---|---|---|
| cell | 18650 Li-ion, 2,600 mAh, **spring holder** | sold in every phone market | €2.10 |
| charge board | TP4056 module with protection | €0.30 everywhere, many compatible clones | €0.30 |
| LEDs | 6 × 2835 SMD, 0.2 W, on an aluminium strip | standard strip, cut to length | €0.60 |
| driver | constant current, 3 brightness steps | one through-hole IC, socketed | €0.80 |
| panel | 6 V 2 W polycrystalline, **JST plug** | a cracked panel is swapped | €3.20 |
| case | two halves, PP, **4 × M3 screws** | no clips to break, no glue | €1.90 |
| diffuser, handle, switch, wiring | | | €1.40 |
| **total** | | | **€10.30** |"""

SCREW_LANTERN = f"""\
## Design goals

Every decision below answers one question: **can a phone-repair shop fix it in 15 minutes with
what is already on its bench?**

## Parts

{LANTERN_PARTS}

## Repairs, timed at our repair café

| failure | how | time |
|---|---|---|
| dead cell | 4 screws, lift the cell out of its holder, drop in a new one | 3 min |
| dead charge board | unplug 2 JST plugs, swap the module | 6 min |
| cut panel lead | replace the lead with a ready-made JST pigtail | 5 min |

## Light

The highest step gives about **170 lumens**, the middle one 90 and the lowest 25. From one sunny
day's charge (about 6 Wh through the 2 W panel) that should mean 5 hours on high.
"""

LANTERN_PROTECTION = """\
| diffuser, handle, switch, wiring | | | €1.40 |
| protection | 1 A polyfuse, P-MOSFET for a reversed cell | cells *will* go in backwards | €0.25 |
| **total** | | | **€10.55** |"""

LANTERN_MEASURED = """\
## Light, measured

Three prototypes with new cells, charged by one sunny day (about 6 Wh through the 2 W panel):

| step | lumens | runtime |
|---|---|---|
| high | 170 | 5 h 10 min |
| middle | 90 | 10 h 40 min |
| low | 25 | three nights |
"""

BOTTLE_LANTERN = """\
## Summary

A lantern made almost entirely from what a town throws away: a **1.5 L PET bottle** as case and
diffuser, the **charging board of a dead power bank**, and an LED strip from a broken TV
backlight. The only new part is the solar panel.

## Parts, and where they come from

- **Case and diffuser:** a 1.5 L bottle, lightly sanded inside for an even glow; the cap holds
  the switch.
- **Electronics:** dead power banks are mostly fine: usually only the cell has died. Their boards
  charge, protect and boost, which is everything a lantern needs.
- **Cell:** 18650 cells from the same power banks or from laptop packs, tested with a €6 capacity
  meter; about half of salvaged cells keep 70 % of their capacity.
- **LEDs:** TV backlight strips run at about 3 V per LED; cut a 3-LED segment.
- **Panel:** new, 5 V 1.5 W: the only part bought (€2.60).

## Cost

| | cost |
|---|---|
| panel, new | €2.60 |
| cell, board, LEDs, salvaged | €0.00 |
| bottle, wire, cable ties | €0.20 |
| capacity test and labour, 25 minutes | €2.50 |
| **total** | **€5.30** |

## Repair

Everything is visible through the bottle. Cell and board sit on a 3D-printed sled that slides
out of the bottle's neck once a cable tie is cut.

## Honest weaknesses

Every lantern is slightly different, so a repair shop cannot stock "the" spare part; and PET
turns yellow in the sun after about two years.
"""

MANUAL_FIRST = """\
## Start from the repair, not from the product

Most lanterns are designed first; someone then tries to write a repair guide. We propose the
reverse: **write the one-page repair guide first**, test it in five phone-repair shops, and
accept only designs that fit it.

## The one-page guide (draft)

| symptom | likely cause | check | fix |
|---|---|---|---|
| no light, no charge LED | cell dead | cell under 2.5 V at the test pads | swap the cell |
| charge LED on, no light | switch or driver | bridge the switch pads | swap the driver |
| dies after 1 hour | cell worn | capacity under 1,200 mAh | swap the cell |
| no charge in the sun | panel lead | continuity across the plug | swap the lead |
| flickers | LED strip joint | press on the strip | resolder or swap the strip |

Every fix must be possible with a Phillips screwdriver, a multimeter and a soldering iron.

## The test

We give the guide and a broken lantern to **five shops** that have never seen it. A design
passes if four shops out of five fix each fault in under 15 minutes without calling us.

## What this means for designs

- Test pads for the cell voltage that can be reached without removing the board.
- Every connector keyed, so that nothing can be plugged in backwards.
- The fault-finding order printed inside the lid.
"""

PHONE_PORT = """\
## Why a phone port

People here pay **€0.20 to charge a phone** at a kiosk, often twice a week: about €20 a year,
more than the lantern costs. Ask lantern buyers what they want besides light, and the answer is
always the same.

The cell holds about 9.6 Wh, enough for **half a phone charge**. The boost board stops at 3.5 V,
so charging a phone can never use up the evening's light.

The port is a separate module on two screws, with the same JST plug as everything else. When the
USB socket wears out (the commonest failure in power banks), it is a 3-minute swap.
"""

RENTAL = """\
## Rent, don't sell

At about €18 in the shop, the lantern still costs a week's income for many households. Instead,
the market stall that charges phones today **rents lanterns out for €0.50 a week**:

| over three years, per lantern | |
|---|---|
| parts and assembly | €14 |
| repairs (two cells, one board) | €5 |
| rent received, 150 weeks × €0.50 | €75 |
| **the stall keeps** | **€56** |
| kerosene the household no longer buys | about €144 |

The stall has every reason to keep lanterns working: a broken lantern earns nothing. The
household pays about half of what kerosene cost.
"""

GAUGE_POWER = """\
## Energy budget, in December

| load | power | hours a day | energy |
|---|---|---|---|
| phone, screen off, a reading every 5 minutes | 0.35 W | 24 | 8.4 Wh |
| ultrasonic sensor, 2 s per reading | 0.15 W | 0.2 | 0.03 Wh |
| SMS bursts | | | 0.4 Wh |
| **total** | | | **8.8 Wh** |

The 5 W panel gives about 9–10 Wh on a December day in the valley, and the three cells hold 29 Wh:
**three dark days**. Tomás's case is rated IP54; mounted under the bridge deck, out of the rain,
that is enough.
"""

SUPERCAP = """\
## A supercapacitor for the bursts

Each SMS burst draws up to 2 A for a second. On a cold, half-empty cell that sags the voltage
enough to reboot the phone, which happened twice in the Sella bridge test. A **10 F, 5.5 V
supercapacitor bank** (€2.40, salvaged from a dashcam or new) across the 5 V rail carries the
burst, and the cells only ever see the average.

Cold also cuts Li-ion capacity: at −5 °C count on about 70 %, so **two dark days, not three**.
Add a fourth cell (€2.10) wherever the station sits in shade.
"""


def _lantern(w: _World) -> None:
    c = w.challenge(
        slug=LANTERN,
        organiser="kwame",
        created=24.5,
        closes_in=30,
        title="Repairable solar lantern",
        summary=(
            "A solar lantern that a market-town phone-repair shop can fix in 15 minutes with a "
            "screwdriver and a soldering iron, for under €15 in parts."
        ),
        problem=LANTERN_PROBLEM,
        context=LANTERN_CONTEXT,
        licence="CERN-OHL-S-2.0",
        criteria=[
            (
                "Repair in 15 minutes",
                "The three commonest failures (cell, charging board, panel lead) fixed in under "
                "15 minutes each.",
            ),
            (
                "Parts under €15",
                "Bill of materials under €15 at 500 units, every part from at least two suppliers.",
            ),
            ("Useful light", "At least 100 lumens for 4 hours from one day's charge."),
        ],
        values=("care-for-the-commons", "building-on-each-other"),
        tags=["Open hardware", "Energy", "Repair"],
    )
    w.thread(
        c,
        ("li", 23.1, "Are 3D-printed parts allowed, or must everything be bought or salvaged?"),
        ("kwame", 22.8, "Allowed, if the file is published and the part prints on a €200 "
         "printer. Our repair cafés have three of them."),
        ("tomas", 22.4, "Good: then the battery door in my design can be printed too."),
    )  # fmt: skip

    lantern = w.solution(
        c, "tomas", 23.6, "Screw-together lantern on a standard 18650 cell", SCREW_LANTERN
    )
    w.revise(
        lantern,
        21.0,
        "Add a fuse and reverse-polarity protection: a cell put in backwards killed two prototypes",
        (
            "| diffuser, handle, switch, wiring | | | €1.40 |\n| **total** | | | **€10.30** |",
            LANTERN_PROTECTION,
        ),
    )
    w.thread(
        lantern,
        ("jonas", 20.2, "Will the JST plugs survive a year of being unplugged by cold hands?"),
        ("tomas", 19.8, "The 2.0 mm ones are rated for about 30 cycles: enough for repairs, not "
         "for daily use. Only the panel lead is ever unplugged by users, so that one becomes a "
         "sturdier 2.5 mm plug."),
    )  # fmt: skip
    w.revise(
        lantern,
        17.4,
        "Measured runtime on three prototypes, and a 2-minute cell swap through a battery door",
        (
            "| case | two halves, PP, **4 × M3 screws** | no clips to break, no glue | €1.90 |",
            "| case | two halves, PP, 4 × M3 screws, **thumb-screw battery door** | no clips, "
            "no glue | €2.05 |",
        ),
        ("| **total** | | | **€10.55** |", "| **total** | | | **€10.70** |"),
        (
            "| dead cell | 4 screws, lift the cell out of its holder, drop in a new one | 3 min |",
            "| dead cell | open the battery door (thumb screw), swap the cell | 2 min |",
        ),
        (
            "## Light\n\nThe highest step gives about **170 lumens**, the middle one 90 and the "
            "lowest 25. From one sunny\nday's charge (about 6 Wh through the 2 W panel) that "
            "should mean 5 hours on high.\n",
            LANTERN_MEASURED,
        ),
    )
    bottle = w.solution(
        c,
        "li",
        21.5,
        "Lantern from a PET bottle and a salvaged power-bank board",
        BOTTLE_LANTERN,
    )
    w.comment(
        bottle,
        "kwame",
        19.2,
        "Salvaged cells are the risky part: could the capacity test also log internal "
        "resistance? A €6 meter does both.",
    )
    manual = w.solution(
        c, "jonas", 18.7, "Write the repair manual first, then the lantern", MANUAL_FIRST
    )
    w.comment(
        manual,
        "kwame",
        12.5,
        "We can run the five-shop test through the repair-café network in March. Tomás's design "
        "would be the first candidate.",
    )

    port = w.fork(
        lantern,
        "amina",
        15.5,
        "Screw-together lantern with a phone-charging port",
        (
            "| **total** | | | **€10.70** |",
            "| USB-A port | 5 V boost board, its own module | charges a phone at night | €0.45 |\n"
            "| **total** | | | **€11.15** |",
        ),
        append=PHONE_PORT,
        message="Add a USB port so that the lantern can top up a phone; a separate module, so "
        "that it can be swapped",
    )
    w.comment(
        port,
        "sofia",
        14.6,
        "Could the port become the business model rather than a feature? Thinking aloud — "
        "forking to try.",
    )
    w.fork(
        port,
        "sofia",
        14.0,
        "Phone-port lantern, rented out by the charging stall",
        append=RENTAL,
        message="Rent lanterns through the phone-charging stall: it earns more when they keep "
        "working",
    )
    w.refs.update(lantern=lantern, port=port)


def _remix(w: _World) -> None:
    """The lantern's power side becomes a flood-gauge power supply: a fork across challenges,
    forked again; later the lantern takes Amina's phone port back upstream."""
    lantern, flood, gauge = w.refs["lantern"], w.refs["flood"], w.refs["gauge"]
    power = w.fork(
        lantern,
        "jonas",
        13.2,
        "Solar power module for river-gauge stations",
        (
            "Every decision below answers one question: **can a phone-repair shop fix it in 15 "
            "minutes with\nwhat is already on its bench?**",
            "This is Tomás's repairable lantern **re-purposed as the power supply of a river "
            "gauge** (his\nscrap-sensor station in this challenge). Same parts, same screws, same "
            "15-minute repairs: the\nload is an old phone and an ultrasonic sensor instead of "
            "LEDs.",
        ),
        (
            "| cell | 18650 Li-ion, 2,600 mAh, **spring holder** | sold in every phone market "
            "| €2.10 |",
            "| cells | **3 ×** 18650 Li-ion in parallel, spring holders | three days without sun "
            "| €6.30 |",
        ),
        (
            "| LEDs | 6 × 2835 SMD, 0.2 W, on an aluminium strip | standard strip, cut to length "
            "| €0.60 |",
            "| load switch | MOSFET that cuts the sensor between readings | the sensor idles at "
            "8 mA | €0.20 |",
        ),
        (
            "| driver | constant current, 3 brightness steps | one through-hole IC, socketed "
            "| €0.80 |",
            "| 5 V boost | USB boost board to feed the phone | phones want 5 V | €0.45 |",
        ),
        (
            "| panel | 6 V 2 W polycrystalline, **JST plug** | a cracked panel is swapped "
            "| €3.20 |",
            "| panel | 6 V **5 W** polycrystalline, **JST plug** | winter sun is weak | €5.80 |",
        ),
        (
            "| diffuser, handle, switch, wiring | | | €1.40 |",
            "| cable glands, wiring, mounting strap | | | €1.10 |",
        ),
        ("| **total** | | | **€10.70** |", "| **total** | | | **€16.45** |"),
        ("## Light, measured", "## Lantern light, measured (for reference)"),
        append=GAUGE_POWER,
        message="Adapt the lantern's power side to a gauge station: 5 W panel, 3 cells, and a "
        "December energy budget",
        challenge=flood,
    )
    w.comment(
        power,
        "tomas",
        12.9,
        "Love this. I'll switch the Sella station to it: the car battery was the ugliest part of "
        "my design.",
    )
    w.fork(
        power,
        "li",
        10.1,
        "Gauge power with a supercapacitor for the SMS bursts",
        append=SUPERCAP,
        message="Add a supercapacitor for SMS bursts, and derate the cells for frost",
    )
    w.revise(
        gauge,
        6.2,
        "Three weeks of field data from the Sella bridge; power from Jonas's lantern-based module",
        (
            "| 10 W panel and a salvaged car battery | scrapyard | €8.00 |",
            "| solar power module from the lantern (Jonas's fork) | repair café | €16.45 |",
        ),
        ("| **total parts** | | **€14.70–21.70** |", "| **total parts** | | **€23.15–30.15** |"),
        append=GAUGE_FIELD_TEST,
    )

    offer = w.propose(
        w.refs["port"],
        13.0,
        "Phone charging is what buyers ask for first, and the port is its own module on the "
        "same plugs, so it keeps every repair under 15 minutes.",
    )
    w.accept(offer, 9.8)
    w.comment(
        lantern,
        "tomas",
        9.7,
        "Took Amina's phone port into the main design: it costs €0.45 and answers the question "
        "every buyer asks first.",
    )


# =============================================================================================
# 7. Linden Court retrofit (private: organisers and invited members only)
# =============================================================================================

RETROFIT_PROBLEM = """\
Linden Court is a housing co-operative of **48 flats** in three five-storey blocks built in
1968: concrete panels, single-glazed stairwells, a shared gas boiler house from 1994. Heating and
hot water cost the co-op **€96,000 a year**, on average €167 per flat per month, and more than
15 % of income for a third of the households.

The co-op has €180,000 in its maintenance reserve, can borrow up to €1.2 m against the
buildings, and may receive up to 40 % in public renovation grants. Any plan must keep each
household's monthly housing cost at or below today's, loan repayments included.

This challenge is private: it works with the co-op's real energy bills and floor plans, which
the residents have shared with invited members only.
"""

RETROFIT_CONTEXT = """\
The boiler is near the end of its life (two major failures last winter, nine days without hot
water in all), and the co-op must decide within a year whether to replace it with another gas
boiler. That would lock in gas for another 25 years.

Residents are mostly older; eleven households include someone with limited mobility, so any
works inside flats must be quick and must not require moving out. The general assembly votes on
the plan in spring, and it needs a two-thirds majority.
"""

TWO_STAGES = """\
## Order matters

Heat pumps sized for a leaky 1968 block are big, expensive, and run at the high temperatures
where they are least efficient. Insulate first, and the heat pumps needed in year two are **half
the size**.

## Stage 1 (year one): the envelope

| measure | cost | heat saved |
|---|---|---|
| external wall insulation, 14 cm mineral wool | €610,000 | 38 % |
| roof insulation, 30 cm | €72,000 | 7 % |
| stairwell windows, triple glazing | €54,000 | 4 % |
| balanced radiators, thermostatic valves | €38,000 | 6 % |
| **total** | **€774,000** | **about 50 %** (savings overlap) |

Works happen **outside the flats**, except the valves: half a day per flat.

## Stage 2 (year two): heat pumps

With demand halved to about 330 MWh a year, **three 60 kW air-to-water heat pumps** on the
boiler-house roof replace the gas boiler, feeding the radiators at 50 °C.

## Paying for it

A 40 % grant brings stage 1 down to €464,000. With the reserve (€180,000), the co-op borrows
€284,000 for stage 1, and about €350,000 for stage 2.
"""

CASH_FLOW = """\
## Per flat, per month (average)

| | today | after stage 1 | after stage 2 |
|---|---|---|---|
| heating and hot water | €167 | €95 | €52 |
| loan repayments (25 years, 3.5 %) | €0 | €30 | €67 |
| **total** | **€167** | **€125** | **€119** |

Small flats pay less and large ones more, in proportion to floor area, as today.
"""

GROUND_LOOP = """\
## One loop under the courtyard

The courtyard between the three blocks is 1,400 m² of lawn. It can hold **24 boreholes of
150 m**, which together give a steady 10 °C source all winter: a ground-source heat pump runs at
a seasonal COP of about 4, against about 2.8 for air-to-water in the same frosts.

## Why one shared loop

| | three air-source units | one ground loop |
|---|---|---|
| investment | €420,000 | €690,000 |
| electricity a year | €38,000 | €27,000 |
| noise | on the roof, near bedrooms | none |
| lifetime | 15–20 years | boreholes 50+, pumps 20 |

The boreholes will outlive everyone in this thread: they are an asset the co-op owns, like the
buildings.

## Drawbacks

Drilling closes the courtyard for about **six weeks**, and the playground moves to the car park
for a summer. Public grants for ground source are 50 %, against 40 % for air source.
"""

METERING = """\
## Measure before sizing

Stage 2's heat pumps are sized on a *calculated* demand, and calculations for 1960s blocks are
often 20–30 % off. Before ordering, meter the real demand of **block C for one winter**:

- heat meters on the risers of its 16 flats (€180 each, €2,900 in all);
- indoor temperature loggers in 8 volunteer flats (€25 each);
- monthly results on the noticeboard, without flat numbers.

If the measured demand is 20 % lower, stage 2 needs two heat pumps instead of three: about
€70,000 saved for €3,100 of meters.
"""


def _retrofit(w: _World) -> None:
    c = w.challenge(
        slug=RETROFIT,
        organiser="kwame",
        invited=("li", "tomas"),
        created=15.3,
        closes_in=45,
        visibility=Challenge.Visibility.PRIVATE,
        title="Linden Court: a retrofit the residents can afford",
        summary=(
            "A 48-flat housing co-op built in 1968 wants to halve its heating bills and be off "
            "gas by 2030, without any household paying more per month than today."
        ),
        problem=RETROFIT_PROBLEM,
        context=RETROFIT_CONTEXT,
        criteria=[
            (
                "Affordable month by month",
                "No household pays more per month than today, loan repayments included.",
            ),
            ("Off gas by 2030", "A credible path to fossil-free heat and hot water by 2030."),
            (
                "Livable works",
                "Nobody has to move out; works inside a flat take under five days.",
            ),
        ],
        values=("real-world-impact", "care-for-the-commons"),
        tags=["Energy", "Housing", "Retrofit"],
    )
    w.comment(
        c,
        "kwame",
        15.0,
        "Welcome, Li and Tomás. The co-op's floor plans and three years of bills are in the "
        "shared folder; please keep the figures inside this challenge.",
    )
    stages = w.solution(
        c, "li", 13.6, "Insulate first, heat pumps second: a two-stage retrofit", TWO_STAGES
    )
    w.revise(
        stages,
        11.4,
        "Add the month-by-month cost per flat: nobody pays more than today",
        append=CASH_FLOW,
    )
    loop = w.solution(c, "tomas", 12.3, "One shared ground loop for all 48 flats", GROUND_LOOP)
    w.thread(
        loop,
        ("kwame", 11.1, "Has anyone checked the geology? The old quarry records mention clay "
         "over sandstone."),
        ("tomas", 10.7, "Clay over sandstone is good news for boreholes. I've asked the regional "
         "survey for the nearest borehole log."),
        ("li", 10.2, "Even if the loop is affordable, stage 1 still comes first: the smaller the "
         "demand, the fewer boreholes."),
    )  # fmt: skip
    w.fork(
        stages,
        "tomas",
        8.4,
        "Two-stage retrofit with a metering pilot in block C",
        ("## Stage 2 (year two): heat pumps", METERING + "\n## Stage 2 (year two): heat pumps"),
        message="Meter block C for a winter before sizing the heat pumps",
    )


# =============================================================================================
# Member proposals, and the draft challenge adopted from one of them
# =============================================================================================

PROPOSALS = [
    {
        "title": "Community cold rooms for smallholder harvests",
        "summary": (
            "Solar-powered cold rooms run by farmer groups, so that smallholders stop losing a "
            "third of their harvest before it reaches a buyer."
        ),
        "problem": """\
Smallholders who sell through our co-ops lose **20–40 % of their tomatoes, leafy greens and
mangoes** between harvest and sale, mostly to heat: produce picked at 30 °C ripens and rots
within two or three days, and buyers pay less on the second day because they know it.

A walk-in cold room at 8–12 °C keeps tomatoes for two to three weeks. Diesel-powered rooms cost
more to run than the crop is worth; solar-powered ones exist, but they are sold as black boxes
with service contracts that farmer groups cannot afford.
""",
        "context": """\
Each of our co-ops has 60–200 member farms, most under two hectares. A farmer who loses a third
of a harvest loses most of the profit on it. Cold storage also lets a group wait for a better
price instead of selling everything on market day.
""",
    },
    {
        "title": "Rank councils by how late they publish their spending",
        "summary": "A public league table of councils, ordered by how many months late their "
        "spending data appears.",
        "problem": """\
Councils are required to publish every payment over €500 each month. In our region, **9 of 23
councils** are more than six months behind, and three have published nothing since 2022.

A league table, updated automatically from the open-data portals, would show at a glance who is
late, and for how long.
""",
        "context": "Journalists and residents cannot follow public money they cannot see.",
    },
    {
        "title": "A polling-station accessibility audit any volunteer can run",
        "summary": "A one-hour checklist and a photo protocol, so that volunteers can audit "
        "every polling station before an election and councils can fix what they find.",
        "problem": """\
At the last local election, disability groups counted **31 of 112 polling stations** in our city
with a step at the entrance and no ramp, and most had no lowered booth. Nobody audits them
systematically: councils rely on complaints made after the vote, when it is too late.

We need an audit that a volunteer with a phone and a tape measure can run in under an hour,
which produces results councils accept.
""",
        "context": "About one voter in six has a disability; many of them simply stay at home.",
    },
    {
        "title": "Keep school laptops running for five more years",
        "summary": "A repair, reuse and lightweight-software programme so that school laptops "
        "last eight years instead of three.",
        "problem": """\
Our district's schools replace about **1,200 laptops a year**, most of them after three years,
because they have become "too slow". Most of them are not broken: they run an operating system
and a set of programmes too heavy for them.

A programme of battery swaps, SSD upgrades and a lighter software image could keep them in use
for five more years, run with pupils in after-school repair clubs.
""",
        "context": "Each laptop carries about 200 kg of CO₂ from its manufacture; keeping it "
        "five more years saves more than a decade of its electricity.",
    },
]


def _proposals(w: _World) -> None:
    cold, league, polling, laptops = PROPOSALS
    adopted = w.proposal(
        "amina",
        21.0,
        backers=(("li", 20.4), ("jonas", 19.7), ("sofia", 17.9), ("kwame", 12.3)),
        **cold,
    )
    declined = w.proposal("jonas", 16.2, backers=(("tomas", 15.8),), **league)
    w.proposal(
        "sofia",
        9.2,
        backers=(("amina", 8.9), ("li", 7.5), ("jonas", 4.1)),
        **polling,
    )
    w.proposal("tomas", 5.3, backers=(("kwame", 5.0), ("li", 3.6)), **laptops)

    services.proposal_decline(
        proposal=declined,
        by=w.users["kwame"],
        reason=(
            "Thank you, Jonas: the problem is real. But a league table frames it as naming and "
            "shaming, and the councils we would need as partners would fight it rather than fix "
            "it. Reframed as 'help a council publish its spending every month with the staff it "
            "has', I would back it and adopt it."
        ),
    )
    ChallengeProposal.objects.filter(pk=declined.pk).update(decided_at=w.at(11.4))

    marta = w.users["marta"]
    challenge = services.proposal_adopt(proposal=adopted, by=marta)
    ChallengeProposal.objects.filter(pk=adopted.pk).update(decided_at=w.at(6.1))
    services.challenge_update(
        challenge=challenge,
        by=marta,
        summary=cold["summary"],
        closes_at=w.now + timedelta(days=75),
        criteria=[
            (
                "Keeps produce",
                "Holds tomatoes and leafy greens at 8–12 °C when it is 35 °C outside, through "
                "two cloudy days.",
            ),
            (
                "Run by the group",
                "Operated and maintained by a farmer group, without a service contract.",
            ),
            (
                "Pays for itself",
                "Storage fees under 5 % of the crop's value recover the cost within five years.",
            ),
        ],
        values=[
            w.values[v] for v in ("real-world-impact", "care-for-the-commons") if v in w.values
        ],
        tags=["Food", "Energy", "Cold chain"],
    )
    Challenge.objects.filter(pk=challenge.pk).update(
        created_at=w.at(6.1), last_activity_at=w.at(6.1)
    )
