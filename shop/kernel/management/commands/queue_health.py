"""``manage.py queue_health QUEUE ...``: a worker container's health check (docker-compose.yml)."""

from django.core.management.base import BaseCommand, CommandError

from shop.kernel import heartbeats


class Command(BaseCommand):
    help = (
        "Exit 0 when each queue named consumed a heartbeat within WORKER_HEARTBEAT_MAX_AGE_SECONDS "
        "(or --max-age), else 1 naming the queues no worker consumes. Without queues: all of them."
    )

    def add_arguments(self, parser):
        parser.add_argument("queues", nargs="*", help="queue names, also comma-separated (default,erp)")
        parser.add_argument("--max-age", type=float, default=None, help="seconds; the setting by default")

    def handle(self, *args, queues, max_age, **options):
        names = [name for value in queues for name in value.split(",") if name] or heartbeats.queue_names()
        unknown = sorted(set(names) - set(heartbeats.queue_names()))
        if unknown:
            raise CommandError(f"Unknown queue(s): {', '.join(unknown)} (CELERY_TASK_QUEUES).")
        report = heartbeats.report(names, max_age=max_age)
        stale = [name for name, queue in report.items() if queue["status"] != "ok"]
        for name, queue in report.items():
            self.stdout.write(f"{name}: {queue['status']}, last consumed {queue['consumed_at'] or 'never'}")
        if stale:
            raise CommandError(f"No worker consumed from {', '.join(stale)} lately.")
