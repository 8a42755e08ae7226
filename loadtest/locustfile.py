"""
Locust's entry: the users of ``loadtest.users`` in their weighted mix (Browser 6, Shopper 3,
Customer 2, one Staff), and with ``LOADTEST_SHAPE=campaign`` the campaign shape of
``loadtest.shape`` (else steady: ``--users`` and ``--spawn-rate``).

    PYTHONPATH=. locust -f loadtest/locustfile.py --host http://127.0.0.1:8000   # `make loadtest` runs it
"""

import os

from loadtest.users import Browser, Customer, Shopper, Staff  # noqa: F401 - Locust finds them here

if os.environ.get("LOADTEST_SHAPE", "steady") == "campaign":
    from loadtest.shape import CampaignShape  # noqa: F401 - Locust uses the shape it finds here
