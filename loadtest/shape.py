"""
The campaign shape: a newsletter goes out, a spike five times the usual load arrives, holds, and
decays back. ``LOADTEST_USERS`` is the usual load (users), ``LOADTEST_DURATION`` the run's seconds;
the stages are shares of it, so a 20-s smoke run and a 10-min run have the same shape.
"""

import os

from locust import LoadTestShape

from loadtest.stages import users_at


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
