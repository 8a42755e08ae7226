"""
The campaign's stages as a pure function (no Locust import: the report and tests use it too).
"""

# (share of the run at which the stage ends, users as a multiple of the base, name)
STAGES = (
    (0.15, 1.0, "ramp"),  # 0 -> base
    (0.30, 1.0, "base"),
    (0.40, 5.0, "spike"),  # base -> 5 x base, fast
    (0.65, 5.0, "hold"),
    (0.90, 1.0, "decay"),  # 5 x base -> base, gradual
    (1.00, 1.0, "after"),
)


def users_at(elapsed: float, *, duration: float, base: int) -> tuple[int, str]:
    """Users wanted ``elapsed`` seconds into a run of ``duration``, and the stage's name."""
    start_share, start_users = 0.0, 0.0
    for end_share, multiple, name in STAGES:
        if elapsed < end_share * duration:
            share = (elapsed - start_share * duration) / max((end_share - start_share) * duration, 1e-9)
            ramps = name in ("ramp", "spike", "decay")
            users = start_users + (multiple - start_users) * share if ramps else multiple
            return max(1, round(users * base)), name
        start_share, start_users = end_share, multiple
    return 0, "done"
