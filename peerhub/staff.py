"""The staff dashboard: every queue that needs a person, with its count and a link, in the way
of Discourse's review queue. The apps that own the data count it (an optional
`staff_queues()` on their AppConfig, see peerhub.hooks); the site only lays them out."""

from dataclasses import dataclass

from .hooks import collect


@dataclass(frozen=True)
class StaffQueue:
    key: str
    title: str
    count: int
    url: str
    description: str  # what is in it and what to do
    position: int = 100

    @property
    def needs_attention(self) -> bool:
        return self.count > 0


def staff_queues() -> list[StaffQueue]:
    """Every app's queues (one count query each), those with work first, then by position."""
    return sorted(
        collect("staff_queues"), key=lambda q: (not q.needs_attention, q.position, q.title)
    )
