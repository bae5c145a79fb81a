"""The scale dataset (`manage.py seed_scale`): a synthetic community proportional to N members,
deterministic for a seed, written straight into the tables (COPY on PostgreSQL, bulk_create
elsewhere) and then scored by the real recompute commands.

At N = 100,000: 500 challenges, ~48,000 solutions whose forks form lineages of up to 500
nodes, 1M votes, 100k reviews, 200k comments, their notifications, 200k follows, 1,000 offers
and 3,000 orders with payments, provider events and balanced ledger transactions.

Every row satisfies the models' constraints and the rules the services enforce: no vote or
review on one's own work or lineage, one vote and one review per member and solution, forks
after their parents, counters that match the rows, escrow that holds exactly the price of the
orders in progress. Lives in marketplace because it is the one app allowed to use all three.
"""

import io
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from challenges.models import Challenge, Comment, Criterion, Revision, Solution
from peerhub.models import Follow, ManifestoSignature, ManifestoVersion, Notification, User
from reputation.models import Review, ReviewScore, Vote

from .models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Offer,
    Order,
    OrderEvent,
    OrderReview,
    Payment,
    ProviderEvent,
)
from .services.orders import fee_for, fee_rate, settlement_key

PASSWORD = "peerhub-scale"  # noqa: S105 (a known login for a scratch dataset)
MAX_LINEAGE = 500
WORDS = [
    "open",
    "water",
    "solar",
    "mesh",
    "repair",
    "commons",
    "seed",
    "garden",
    "bike",
    "map",
    "school",
    "clinic",
    "grid",
    "archive",
    "bridge",
    "kiln",
    "loom",
    "market",
    "radio",
    "tool",
    "library",
    "kitchen",
    "river",
    "compost",
    "roof",
    "transit",
]


@dataclass
class Sizes:
    """How much of everything N members make (the ratios of the 100k dataset)."""

    members: int
    challenges: int = 0
    solutions: int = 0
    votes: int = 0
    reviews: int = 0
    comments: int = 0
    follows: int = 0
    offers: int = 0
    orders_per_offer: int = 3

    def __post_init__(self):
        n = self.members
        self.challenges = self.challenges or max(2, round(n / 200))
        self.solutions = self.solutions or max(3 * self.challenges, round(n * 0.48))
        self.votes = self.votes or n * 10
        self.reviews = self.reviews or n
        self.comments = self.comments or n * 2
        self.follows = self.follows or n * 2
        self.offers = self.offers or max(2, n // 100)


@dataclass
class Table:
    model: type
    rows: list = field(default_factory=list)
    next_pk: int = 1


class Writer:
    """Rows per model with explicit primary keys, written in dependency order."""

    def __init__(self, anchor: datetime):
        self.anchor = anchor
        self.tables: dict[type, Table] = {}

    def table(self, model) -> Table:
        if model not in self.tables:
            top = model.objects.aggregate(top=models.Max("pk"))["top"] or 0
            self.tables[model] = Table(model, next_pk=top + 1)
        return self.tables[model]

    def add(self, model, **row) -> int:
        table = self.table(model)
        row.setdefault("id", table.next_pk)
        table.next_pk = max(table.next_pk, row["id"]) + 1
        table.rows.append(row)
        return row["id"]

    def peek(self, model) -> int:
        return self.table(model).next_pk

    def flush(self, model) -> int:
        table = self.table(model)
        count = len(table.rows)
        if connection.vendor == "postgresql":
            self._copy(model, table.rows)
        else:
            model.objects.bulk_create([model(**row) for row in table.rows], batch_size=500)
        table.rows = []
        return count

    def _copy(self, model, rows) -> None:
        fields = [f for f in model._meta.concrete_fields]
        defaults = {}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults[f.attname] = self.anchor
            elif f.has_default():
                defaults[f.attname] = f.get_default()
            else:
                defaults[f.attname] = None if f.null else f.get_default()
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        buffer = io.StringIO()
        for row in rows:
            values = []
            for f in fields:
                value = row.get(f.attname, defaults[f.attname])
                values.append(_copy_text(value, f.attname in json_fields))
            buffer.write("\t".join(values) + "\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN",
                buffer,
            )

    def reset_sequences(self) -> None:
        if connection.vendor != "postgresql":
            return
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.tables))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _copy_text(value, is_json: bool) -> str:
    if value is None:
        return "\\N"
    if is_json:
        value = json.dumps(value)
    elif isinstance(value, bool):
        return "t" if value else "f"
    elif isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Seeder:
    def __init__(self, members: int, *, seed: int = 1, log=print):
        self.sizes = Sizes(members)
        self.rng = random.Random(seed)
        self.log = log
        self.anchor = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.start = self.anchor - timedelta(days=365)
        self.writer = Writer(self.anchor)
        self.timings: list[tuple[str, float, int]] = []

    # --- helpers ------------------------------------------------------------------------------

    def _stage(self, name, func):
        began = time.perf_counter()
        count = func()
        seconds = time.perf_counter() - began
        self.timings.append((name, seconds, count or 0))
        self.log(f"{name:<28}{count or 0:>10} rows {seconds:>8.1f} s")

    def _flush(self, *models_) -> int:
        return sum(self.writer.flush(model) for model in models_)

    def _between(self, early: datetime, late: datetime | None = None) -> datetime:
        late = late or self.anchor
        span = max(0.0, (late - early).total_seconds())
        return early + timedelta(seconds=int(self.rng.random() * span))

    def _zipf_cum(self, n: int, exponent: float, shift: float = 1.0) -> list[float]:
        """Cumulative weights 1/(rank+shift)^exponent over a random ranking of n items."""
        order = list(range(n))
        self.rng.shuffle(order)
        weights = [0.0] * n
        for rank, index in enumerate(order):
            weights[index] = 1.0 / (rank + shift) ** exponent
        cumulative, total = [], 0.0
        for w in weights:
            total += w
            cumulative.append(total)
        return cumulative

    def _pick(self, population, cum):
        return self.rng.choices(population, cum_weights=cum)[0]

    def _text(self, words: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> list[tuple[str, float, int]]:
        with transaction.atomic():
            self._stage("members", self.members)
            self._stage("challenges", self.challenges)
            self._stage("solutions and revisions", self.solutions)
            self._stage("votes", self.votes)
            self._stage("reviews", self.reviews)
            self._stage("comments", self.comments)
            self._stage("notifications", self.notifications)
            self._stage("follows", self.follows)
            self._stage("offers and orders", self.marketplace)
            self._stage("sequences", lambda: self.writer.reset_sequences())
        return self.timings

    def members(self) -> int:
        n = self.sizes.members
        password = make_password(PASSWORD)
        self.user_ids = []
        for i in range(n):
            if i == 0:
                username, staff = "admin", True
            elif i == 1:
                username, staff = "bench", False
            else:
                username, staff = f"member{i:06d}", False
            joined = self.start - timedelta(days=30) + timedelta(seconds=i)
            pk = self.writer.add(
                User,
                username=username,
                email=f"{username}@scale.example.org",
                password=password,
                display_name=f"{self.rng.choice(WORDS).title()} {username}",
                is_staff=staff,
                is_superuser=staff,
                is_active=True,
                date_joined=joined,
                first_name="",
                last_name="",
                bio="",
                skills="",
            )
            self.user_ids.append(pk)
            self.writer.add(
                EmailAddress,
                user_id=pk,
                email=f"{username}@scale.example.org",
                verified=True,
                primary=True,
            )
        # Activity is skewed: a few members do much; `bench` is among the busiest.
        self.member_cum = self._zipf_cum(n, 0.9, shift=8.0)
        self.member_cum = [
            c + (i >= 1) * self.member_cum[-1] / 50 for i, c in enumerate(self.member_cum)
        ]
        version = ManifestoVersion.objects.published().order_by("-number").first()
        if version is None:
            version = ManifestoVersion.objects.create(
                number=1,
                title="Scale manifesto",
                preamble="We build on each other.",
                body="Values.",
                published_at=self.start,
            )
        for pk in self.user_ids:
            if self.rng.random() < 0.7:
                self.writer.add(
                    ManifestoSignature,
                    version_id=version.pk,
                    user_id=pk,
                    signed_at=self._between(self.start),
                )
        return self._flush(User, EmailAddress, ManifestoSignature)

    def _member(self) -> int:
        return self.user_ids[self._pick(range(len(self.user_ids)), self.member_cum)]

    def challenges(self) -> int:
        count = self.sizes.challenges
        pool = self.user_ids[2 : 2 + max(2, count // 4)] or self.user_ids[:2]
        through = Challenge.organisers.through
        statuses = ["open"] * 17 + ["selecting"] * 2 + ["closed"]
        self.challenge_ids, self.criteria, self.challenge_time = [], {}, {}
        base = self.writer.peek(Challenge)
        for i in range(count):
            organiser = pool[i % len(pool)]
            created = self.start - timedelta(days=20) + timedelta(minutes=i)
            status = self.rng.choice(statuses)
            pk = self.writer.add(
                Challenge,
                slug=f"scale-{base + i}",
                title=f"{self._text(4)[:-1]} ({base + i})",
                summary=self._text(12),
                problem=self._text(60),
                context=self._text(40),
                created_by_id=organiser,
                status=status,
                visibility="public",
                opens_at=created,
                closes_at=self.anchor + timedelta(days=60) if status == "open" else self.anchor,
                created_at=created,
                updated_at=created,
                last_activity_at=created,
                solution_count=0,
                comment_count=0,
            )
            self.challenge_ids.append(pk)
            self.challenge_time[pk] = created
            self.writer.add(through, challenge_id=pk, user_id=organiser)
            self.criteria[pk] = [
                self.writer.add(
                    Criterion, challenge_id=pk, position=p, name=name, description=self._text(8)
                )
                for p, name in enumerate(("Impact", "Feasibility", "Clarity"), start=1)
            ]
        return self._flush(Challenge, through, Criterion)

    def solutions(self) -> int:
        count = self.sizes.solutions
        challenge_cum = self._zipf_cum(len(self.challenge_ids), 0.8)
        self.solutions_by_challenge = defaultdict(list)
        self.sol = {}  # pk -> dict(author, challenge, parent, root, gen, path, revision, time)
        lineage_size = defaultdict(int)
        lineage_members, main_lineage = defaultdict(list), {}
        sol_base, rev_base = self.writer.peek(Solution), self.writer.peek(Revision)
        span = (self.anchor - timedelta(days=5) - self.start).total_seconds()
        for i in range(count):
            pk, rev = sol_base + i, rev_base + i
            challenge = self._pick(self.challenge_ids, challenge_cum)
            author = self._member()
            created = self.start + timedelta(seconds=int(span * i / count))
            parent = None
            siblings = self.solutions_by_challenge[challenge]
            if siblings and self.rng.random() < 0.6:
                # Half the forks build on the challenge's first lineage: the busiest
                # challenges grow one lineage to MAX_LINEAGE nodes, as popular work does.
                main = main_lineage[challenge]
                if self.rng.random() < 0.5 and lineage_size[main] < MAX_LINEAGE:
                    candidate = self.sol[self.rng.choice(lineage_members[main])]
                else:
                    candidate = self.sol[self.rng.choice(siblings)]
                if lineage_size[candidate["root"]] < MAX_LINEAGE:
                    parent = candidate
                    while author == parent["author"]:
                        author = self._member()
            root = parent["root"] if parent else pk
            lineage_size[root] += 1
            lineage_members[root].append(pk)
            main_lineage.setdefault(challenge, root)
            generation = parent["gen"] + 1 if parent else 0
            path = f"{parent['path'] if parent else '/'}{pk}/"
            ancestors = parent["ancestors"] | {parent["author"]} if parent else frozenset()
            self.sol[pk] = {
                "author": author,
                "challenge": challenge,
                "parent": parent and parent["pk"],
                "root": root,
                "gen": generation,
                "path": path,
                "pk": pk,
                "time": created,
                "revision": rev,
                "ancestors": frozenset(ancestors),
                "forks": 0,
                "descendants": 0,
                "comments": 0,
            }
            siblings.append(pk)
            if parent:
                parent["forks"] += 1
                for ancestor in path.strip("/").split("/")[:-1]:
                    self.sol[int(ancestor)]["descendants"] += 1
        self.solution_ids = list(self.sol)
        for pk, s in self.sol.items():
            title = f"{self._text(3)[:-1]} #{pk}"
            self.writer.add(
                Solution,
                id=pk,
                challenge_id=s["challenge"],
                author_id=s["author"],
                title=title,
                status="published",
                parent_id=s["parent"],
                forked_from_revision_id=self.sol[s["parent"]]["revision"] if s["parent"] else None,
                root_id=s["root"],
                generation=s["gen"],
                path=s["path"],
                current_revision_id=s["revision"],
                revision_count=1,
                unchanged_fork=False,
                fork_count=s["forks"],
                descendant_count=s["descendants"],
                comment_count=0,  # set after the comments
                created_at=s["time"],
                updated_at=s["time"],
                published_at=s["time"],
            )
            self.writer.add(
                Revision,
                id=s["revision"],
                solution_id=pk,
                number=1,
                title=title,
                body=f"## {title}\n\n{self._text(80)}\n\n- {self._text(6)}\n- {self._text(6)}\n",
                message="First version" if not s["parent"] else "Forked",
                author_id=s["author"],
                created_at=s["time"],
            )
        return self._flush(Solution, Revision)

    def _solution_picker(self):
        cum = self._zipf_cum(len(self.solution_ids), 0.7, shift=5.0)
        return lambda: self.sol[self._pick(self.solution_ids, cum)]

    def _judge(self, pick_solution, seen: set, attempts: int = 20):
        """A (solution, member) pair the rules allow: not the author, not in its lineage, new."""
        for _ in range(attempts):
            s, member = pick_solution(), self._member()
            key = (s["pk"], member)
            if member != s["author"] and member not in s["ancestors"] and key not in seen:
                seen.add(key)
                return s, member
        return None, None

    def votes(self) -> int:
        pick, seen = self._solution_picker(), set()
        for _ in range(self.sizes.votes):
            s, voter = self._judge(pick, seen)
            if s is None:
                continue
            at = self._between(s["time"])
            value = 1 if self.rng.random() < 0.85 else -1
            self.writer.add(
                Vote, solution_id=s["pk"], voter_id=voter, value=value, created_at=at, updated_at=at
            )
        return self._flush(Vote)

    def reviews(self) -> int:
        pick, seen = self._solution_picker(), set()
        for _ in range(self.sizes.reviews):
            s, reviewer = self._judge(pick, seen)
            if s is None:
                continue
            scores = [self.rng.randint(1, 5) for _ in self.criteria[s["challenge"]]]
            at = self._between(s["time"])
            review = self.writer.add(
                Review,
                solution_id=s["pk"],
                reviewer_id=reviewer,
                comment=self._text(25),
                mean_score=(Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01")),
                created_at=at,
                updated_at=at,
            )
            for criterion, score in zip(self.criteria[s["challenge"]], scores, strict=True):
                self.writer.add(ReviewScore, review_id=review, criterion_id=criterion, score=score)
        return self._flush(Review, ReviewScore)

    def comments(self) -> int:
        pick = self._solution_picker()
        threads = defaultdict(list)  # ("c"|"s", pk) -> [(comment pk, author, time)]
        self.replies, self.solution_comments = [], []
        challenge_comments = defaultdict(int)
        for _ in range(self.sizes.comments):
            author = self._member()
            if self.rng.random() < 0.3:
                challenge = self.rng.choice(self.challenge_ids)
                target, early = ("c", challenge), self.challenge_time[challenge]
            else:
                s = pick()
                target, early = ("s", s["pk"]), s["time"]
            parent = None
            if threads[target] and self.rng.random() < 0.3:
                parent = self.rng.choice(threads[target])
                early = parent[2]
            at = self._between(early)
            pk = self.writer.add(
                Comment,
                author_id=author,
                challenge_id=target[1] if target[0] == "c" else None,
                solution_id=target[1] if target[0] == "s" else None,
                parent_id=parent[0] if parent else None,
                body=self._text(20),
                created_at=at,
            )
            threads[target].append((pk, author, at))
            if target[0] == "c":
                challenge_comments[target[1]] += 1
            else:
                self.sol[target[1]]["comments"] += 1
                self.solution_comments.append((pk, author, target[1], at))
            if parent and parent[1] != author:
                self.replies.append((pk, author, parent[1], target, at))
        written = self._flush(Comment)
        for pk, n in challenge_comments.items():
            Challenge.objects.filter(pk=pk).update(comment_count=n)
        by_challenge = defaultdict(int)
        for s in self.sol.values():
            by_challenge[s["challenge"]] += 1
        for pk, n in by_challenge.items():
            Challenge.objects.filter(pk=pk).update(solution_count=n)
        counts = defaultdict(list)
        for pk, s in self.sol.items():
            if s["comments"]:
                counts[s["comments"]].append(pk)
        for n, pks in counts.items():
            for start in range(0, len(pks), 900):
                Solution.objects.filter(pk__in=pks[start : start + 900]).update(comment_count=n)
        return written

    def notifications(self) -> int:
        solution_type = ContentType.objects.get_for_model(Solution).pk
        comment_type = ContentType.objects.get_for_model(Comment).pk

        def add(recipient, kind, key, actor, target_type, target_id, url, text, at):
            read = at + timedelta(hours=6) if self.rng.random() < 0.7 else None
            self.writer.add(
                Notification,
                recipient_id=recipient,
                kind=kind,
                dedupe_key=key,
                actor_id=actor,
                target_type_id=target_type,
                target_id=target_id,
                target_url=url,
                text=text,
                email="none",
                created_at=at,
                read_at=read,
            )

        for pk, s in self.sol.items():
            if s["parent"]:
                parent = self.sol[s["parent"]]
                add(
                    parent["author"],
                    "solution_forked",
                    f"solution:{pk}",
                    s["author"],
                    solution_type,
                    pk,
                    f"/solutions/{pk}/",
                    "Your solution was forked",
                    s["time"],
                )
        for pk, author, solution, at in self.solution_comments:
            owner = self.sol[solution]["author"]
            if owner != author:
                add(
                    owner,
                    "solution_comment",
                    f"comment:{pk}",
                    author,
                    comment_type,
                    pk,
                    f"/solutions/{solution}/#comment-{pk}",
                    "A comment on your solution",
                    at,
                )
        for pk, author, parent_author, target, at in self.replies:
            url = f"/solutions/{target[1]}/" if target[0] == "s" else f"/challenges/{target[1]}/"
            add(
                parent_author,
                "comment_reply",
                f"comment:{pk}",
                author,
                comment_type,
                pk,
                f"{url}#comment-{pk}",
                "A reply to your comment",
                at,
            )
        return self._flush(Notification)

    def follows(self) -> int:
        types = {
            "member": (ContentType.objects.get_for_model(User).pk, self.user_ids),
            "solution": (ContentType.objects.get_for_model(Solution).pk, self.solution_ids),
            "challenge": (ContentType.objects.get_for_model(Challenge).pk, self.challenge_ids),
        }
        seen = set()
        for _ in range(self.sizes.follows):
            follower = self._member()
            name = self.rng.choices(list(types), weights=(5, 3, 2))[0]
            type_id, pool = types[name]
            target = self.rng.choice(pool)
            key = (follower, type_id, target)
            if key in seen or (name == "member" and target == follower):
                continue
            seen.add(key)
            self.writer.add(
                Follow,
                follower_id=follower,
                target_type_id=type_id,
                target_id=target,
                created_at=self._between(self.start),
            )
        return self._flush(Follow)

    def marketplace(self) -> int:
        currency = Offer._meta.get_field("currency").get_default()
        rate = fee_rate()
        by_author = defaultdict(list)
        for pk, s in self.sol.items():
            by_author[s["author"]].append(pk)
        sellers = sorted(by_author, key=lambda a: (-len(by_author[a]), a))[: self.sizes.offers]
        platform = {
            kind: self.writer.add(LedgerAccount, kind=kind, user_id=None, currency=currency)
            for kind in ("clearing", "escrow", "revenue")
            if not LedgerAccount.objects.filter(kind=kind, user=None, currency=currency).exists()
        }
        for kind in ("clearing", "escrow", "revenue"):
            if kind not in platform:
                platform[kind] = LedgerAccount.objects.get(
                    kind=kind, user=None, currency=currency
                ).pk
        states = ["completed"] * 7 + ["in_progress"] * 2 + ["cancelled"]
        for seller in sellers:
            price = self.rng.randrange(1000, 20000, 500)
            created = self._between(self.start, self.anchor - timedelta(days=120))
            offer = self.writer.add(
                Offer,
                seller_id=seller,
                title=f"Hand-made {self._text(3)[:-1].lower()}",
                description=self._text(40),
                base_solution_id=by_author[seller][0],
                price=price,
                currency=currency,
                delivery_days=self.rng.randint(3, 14),
                capacity=self.rng.randint(3, 5),
                is_active=True,
                created_at=created,
                updated_at=created,
            )
            payable = self.writer.add(
                LedgerAccount, kind="payable", user_id=seller, currency=currency
            )
            active = 0
            for n in range(self.sizes.orders_per_offer):
                buyer = self._member()
                while buyer == seller:
                    buyer = self._member()
                state = self.rng.choice(states)
                if state == "in_progress":
                    active += 1
                    state = state if active <= 1 else "completed"
                self._order(
                    offer,
                    seller,
                    buyer,
                    price,
                    currency,
                    rate,
                    state,
                    created,
                    n,
                    platform,
                    payable,
                )
        return self._flush(
            LedgerAccount,
            Offer,
            Order,
            OrderEvent,
            Payment,
            ProviderEvent,
            LedgerTransaction,
            LedgerEntry,
            OrderReview,
        )

    def _order(self, offer, seller, buyer, price, currency, rate, state, after, n, acct, payable):
        created = self._between(after, self.anchor - timedelta(days=60))
        fee = fee_for(price, rate)
        done = state == "completed"
        paid = created + timedelta(hours=1) if state != "cancelled" else None
        delivered = created + timedelta(days=5) if done else None
        order_pk = self.writer.peek(Order)
        order = self.writer.add(
            Order,
            offer_id=offer,
            buyer_id=buyer,
            seller_id=seller,
            state=state,
            brief=self._text(20),
            title=f"Order of offer {offer}",
            price=price,
            currency=currency,
            fee_rate=rate,
            fee=fee,
            released_amount=price - fee if done else 0,
            fee_collected=fee if done else 0,
            created_at=created,
            updated_at=created,
            paid_at=paid,
            delivered_at=delivered,
            completed_at=delivered + timedelta(days=1) if done else None,
        )
        assert order == order_pk
        steps = {
            "cancelled": ["pending_payment", "cancelled"],
            "in_progress": ["pending_payment", "paid", "in_progress"],
            "completed": ["pending_payment", "paid", "in_progress", "delivered", "completed"],
        }[state]
        previous = ""
        for k, step in enumerate(steps):
            self.writer.add(
                OrderEvent,
                order_id=order,
                from_state=previous,
                to_state=step,
                actor_id=buyer if step in ("pending_payment", "paid", "completed") else seller,
                created_at=created + timedelta(hours=k),
            )
            previous = step
        if paid is None:
            return
        payment = self.writer.add(
            Payment,
            provider="sandbox",
            provider_reference=f"scale-{order}",
            idempotency_key=f"scale-order-{order}",
            payer_id=buyer,
            order_id=order,
            amount=price,
            currency=currency,
            status="succeeded",
            created_at=created,
            updated_at=paid,
        )
        self.writer.add(
            ProviderEvent,
            provider="sandbox",
            event_id=f"scale-{order}",
            kind="payment.succeeded",
            state="applied",
            reported="succeeded",
            payment_key=f"scale-order-{order}",
            provider_reference=f"scale-{order}",
            amount=price,
            currency=currency,
            payment_id=payment,
            payload={},
            outcome="captured",
            received_at=paid,
            applied_at=paid,
        )
        capture = self.writer.add(
            LedgerTransaction,
            key=f"payment:{payment}:capture",
            kind="capture",
            memo=f"Order #{order} paid",
            order_id=order,
            payment_id=payment,
            created_at=paid,
        )
        self.writer.add(
            LedgerEntry, transaction_id=capture, account_id=acct["clearing"], amount=-price
        )
        self.writer.add(
            LedgerEntry, transaction_id=capture, account_id=acct["escrow"], amount=price
        )
        if not done:
            return
        release = self.writer.add(
            LedgerTransaction,
            key=settlement_key(Order(pk=order)),
            kind="release",
            memo="Accepted by the buyer",
            order_id=order,
            payment_id=payment,
            created_at=delivered,
        )
        for account, amount in (
            (acct["escrow"], -price),
            (payable, price - fee),
            (acct["revenue"], fee),
        ):
            if amount:
                self.writer.add(
                    LedgerEntry, transaction_id=release, account_id=account, amount=amount
                )
        if self.rng.random() < 0.6:
            self.writer.add(
                OrderReview,
                order_id=order,
                rating=self.rng.choice((3, 4, 4, 5, 5, 5)),
                text=self._text(15),
                created_at=delivered,
            )


def expected_counts(members: int) -> dict[str, int]:
    """What a seed of `members` aims at (the generator drops the few pairs the rules refuse)."""
    sizes = Sizes(members)
    return {
        "members": members,
        "challenges": sizes.challenges,
        "solutions": sizes.solutions,
        "votes": sizes.votes,
        "reviews": sizes.reviews,
        "comments": sizes.comments,
        "offers": min(sizes.offers, sizes.solutions),
        "orders": min(sizes.offers, sizes.solutions) * sizes.orders_per_offer,
    }


def lineage_sizes() -> list[int]:
    """The sizes of the largest lineages, largest first (for the report)."""
    rows = (
        Solution.objects.values("root_id")
        .annotate(n=models.Count("pk"))
        .order_by("-n")
        .values_list("n", flat=True)[:5]
    )
    return list(rows)
