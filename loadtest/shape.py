"""
The campaign shape: a newsletter goes out, a spike five times the usual load arrives, holds, and
decays back. ``LOADTEST_USERS`` is the usual load (users), ``LOADTEST_DURATION`` the run's seconds;
the stages are shares of it, so a 20-s smoke run and a 10-min run have the same shape.
"""

import os

from locust import LoadTestShape

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


class CampaignShape(LoadTestShape):
    """Ramp, spike x5, hold, decay (``STAGES``); stops at ``LOADTEST_DURATION``."""

    def __init__(self):
        super().__init__()
        self.duration = float(os.environ.get("LOADTEST_DURATION", "180"))
        self.base = int(os.environ.get("LOADTEST_USERS", "10"))

    def tick(self):
        elapsed = self.get_run_time()
        if elapsed >= self.duration:
            return None
        users, _ = users_at(elapsed, duration=self.duration, base=self.base)
        # Spawn fast enough to reach the spike's users within a few seconds.
        return users, max(1.0, self.base * 2.0)
