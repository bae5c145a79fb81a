"""Which databases commands that write synthetic data may touch (simulate, seed_scale)."""


def is_scratch(name: str) -> bool:
    """A scratch database says so in its name: "sim" or "scratch" (e.g. peerhub_scratch_10k)."""
    lowered = str(name).lower()
    return "sim" in lowered or "scratch" in lowered
