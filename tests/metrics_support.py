"""
Reading ``/metrics`` in tests: the text a scrape returns, parsed by prometheus-client's own parser,
so that a test asks for one sample by name and labels (``Scrape.value``) or for the change
between two scrapes (``Scrape.delta``). In-process scrapes use Django's test client; the same
parser reads a gunicorn's answer.
"""

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """The samples of one scrape: ``{(name, frozenset(labels.items())): value}``."""

    def __init__(self, text: str):
        self.text = text
        self.samples: dict[tuple[str, frozenset], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    @classmethod
    def of(cls, client, **headers) -> "Scrape":
        response = client.get("/metrics", **headers)
        assert response.status_code == 200, response.content
        return cls(response.content.decode())

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; 0 when absent (a counter not counted yet)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str, **labels: str) -> bool:
        return (name, frozenset(labels.items())) in self.samples

    def delta(self, before: "Scrape", name: str, **labels: str) -> float:
        return self.value(name, **labels) - before.value(name, **labels)

    def series(self, name: str) -> list[dict[str, str]]:
        """The label sets of every sample named ``name``."""
        return [dict(labels) for sample_name, labels in self.samples if sample_name == name]

    def funnel(self, before: "Scrape") -> dict[tuple[str, str], float]:
        """The funnel's counts that changed since ``before``: ``{(step, outcome): increase}``."""
        changed = {}
        for labels in self.series("shop_checkout_funnel_total"):
            increase = self.delta(before, "shop_checkout_funnel_total", **labels)
            if increase:
                changed[(labels["step"], labels["outcome"])] = increase
        return changed
