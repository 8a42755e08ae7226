"""
Import and export jobs reach a worker even if the broker is down when they are created: the job
stays ``queued`` without ``sent_at``, and the beat task sends it once the broker is back.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from integrations.models import ExportJob, ImportJob
from integrations.services import dispatch, stock_sync
from integrations.tasks import exports as export_tasks
from integrations.tasks import jobs as job_tasks
from integrations.tasks import price_import as price_tasks
from integrations.tasks import product_import as product_tasks
from integrations.tasks import stock_sync as stock_tasks
from shop.kernel import heartbeats
from tests.catalog.factories import sellable_product
from tests.celery_worker import wait_for
from tests.kernel.brokers import broker_at, intercept

NOW = datetime.timedelta(0)


def capture_sends(monkeypatch) -> dict[str, list[str]]:
    """From now on, the job ids each task is sent, by task name, instead of a broker."""
    messages: dict[str, list[str]] = {}
    for task in (
        export_tasks.export_feed,
        price_tasks.price_import_run,
        product_tasks.product_import_run,
        stock_tasks.stock_sync_run,
    ):
        intercept(
            monkeypatch, task, lambda job_id, name=task.name: messages.setdefault(name, []).append(job_id)
        )
    return messages


@pytest.fixture
def sent(monkeypatch):
    return capture_sends(monkeypatch)


def create_one_of_each(client) -> list:
    """An export, a price import and a product import through the API, and a stock sync."""
    export = client.post("/api/v1/integrations/exports/", {"format": "csv"}, format="json")
    prices = client.post(
        "/api/v1/integrations/price-imports/",
        {
            "file": SimpleUploadedFile(
                "p.csv", b"sku,amount,currency\nA-1,1.00,EUR\n", content_type="text/csv"
            )
        },
        format="multipart",
    )
    header = "sku,product_slug,product_name,variant_name,category,description,attributes"
    products = client.post(
        "/api/v1/integrations/product-imports/",
        {
            "file": SimpleUploadedFile(
                "f.csv", f"{header}\nA-1,a,A,A,tools,,\n".encode(), content_type="text/csv"
            )
        },
        format="multipart",
    )
    assert [response.status_code for response in (export, prices, products)] == [202, 202, 202]
    stock = stock_sync.stock_sync_create(file=b"sku,warehouse,on_hand\nA-1,main,1\n", name="s.csv")
    return [
        ExportJob.objects.get(pk=export.json()["id"]),
        ImportJob.objects.get(pk=prices.json()["id"]),
        ImportJob.objects.get(pk=products.json()["id"]),
        stock,
    ]


def unsent() -> set:
    return {
        *ExportJob.objects.filter(sent_at__isnull=True).values_list("pk", flat=True),
        *ImportJob.objects.filter(sent_at__isnull=True).values_list("pk", flat=True),
    }


@pytest.mark.django_db(transaction=True)
def test_each_job_is_sent_on_commit_and_marked_sent(staff_client, sent):
    jobs = create_one_of_each(staff_client)

    assert sent == {
        "integrations.export_feed": [str(jobs[0].pk)],
        "integrations.price_import_run": [str(jobs[1].pk)],
        "integrations.product_import_run": [str(jobs[2].pk)],
        "integrations.stock_sync_run": [str(jobs[3].pk)],
    }
    assert unsent() == set()
    assert dispatch.send_unsent(older_than=NOW) == 0


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_at_creation_loses_no_job(staff_client, broker_down, monkeypatch):
    jobs = create_one_of_each(staff_client)  # every request still answers 202

    assert unsent() == {job.pk for job in jobs}
    assert {job.status for job in ExportJob.objects.all()} | {
        job.status for job in ImportJob.objects.all()
    } == {"queued"}
    assert dispatch.send_unsent(older_than=NOW) == 0  # still down: they wait

    broker_down.restore()
    messages = capture_sends(monkeypatch)
    assert dispatch.send_unsent() == 0  # younger than a minute: their on-commit send may be under way
    ImportJob.objects.update(created_at=timezone.now() - dispatch.UNSENT_AFTER * 2)
    ExportJob.objects.update(created_at=timezone.now() - dispatch.UNSENT_AFTER * 2)

    assert job_tasks.jobs_send_unsent() == 4  # the beat task
    assert sorted(job_id for ids in messages.values() for job_id in ids) == sorted(
        str(job.pk) for job in jobs
    )
    assert unsent() == set()
    assert job_tasks.jobs_send_unsent() == 0  # sent once, not again


@pytest.mark.django_db
def test_a_job_overtaken_by_a_heartbeat_on_its_queue_lost_its_message_and_is_sent_again(sent):
    sent_at = timezone.now() - datetime.timedelta(minutes=5)
    lost = ExportJob.objects.create(sent_at=sent_at)
    ExportJob.objects.create(status="running", sent_at=sent_at)
    ExportJob.objects.create(status="done", sent_at=sent_at)
    other_queue = ImportJob.objects.create(kind=ImportJob.Kind.PRICES, file="p.csv", sent_at=sent_at)
    assert dispatch.send_lost() == 0  # no heartbeat ran since: each may still wait its turn

    # A worker took a heartbeat sent after the job's message from the same queue (first in,
    # first out): the job's message is gone, as when Redis restarted empty.
    heartbeats.record(queue="exports", sent_at=sent_at + datetime.timedelta(minutes=1), worker="bulk@x")
    later = ExportJob.objects.create(sent_at=sent_at + datetime.timedelta(minutes=2))  # behind it

    assert job_tasks.jobs_send_unsent() == 1  # the beat task
    assert sent == {"integrations.export_feed": [str(lost.pk)]}
    lost.refresh_from_db()
    assert lost.sent_at > sent_at + datetime.timedelta(minutes=1)  # sent again now
    assert dispatch.send_lost() == 0  # and not again until a later heartbeat overtakes it too
    later.refresh_from_db()
    other_queue.refresh_from_db()
    assert later.sent_at == sent_at + datetime.timedelta(minutes=2)
    assert other_queue.sent_at == sent_at  # prices: no heartbeat there


@pytest.mark.django_db
def test_only_queued_jobs_are_sent(sent):
    old = timezone.now() - dispatch.UNSENT_AFTER * 2
    for status in ("queued", "running", "done", "failed"):
        ExportJob.objects.create(status=status)
    ExportJob.objects.update(created_at=old)

    assert dispatch.send_unsent() == 1
    assert sent["integrations.export_feed"] == [str(ExportJob.objects.get(status="queued").pk)]


def test_beat_runs_the_sweep_every_jobs_sweep_seconds_on_the_default_queue(settings):
    from shop.celery import app

    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "integrations.jobs_send_unsent"
    )
    assert entry["schedule"].run_every == datetime.timedelta(seconds=settings.JOBS_SWEEP_SECONDS)
    assert settings.JOBS_SWEEP_SECONDS <= 15  # with the heartbeats: a lost job runs within a minute
    assert app.amqp.router.route({}, "integrations.jobs_send_unsent")["queue"].name == "default"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_an_export_asked_for_while_the_broker_was_down_is_built_by_a_worker_after_the_sweep(
    celery_worker, staff_client, broker_down
):
    sellable_product(skus=["SWEPT-1"], price="4.50")
    response = staff_client.post("/api/v1/integrations/exports/", {"format": "csv"}, format="json")
    assert response.status_code == 202
    job_id = response.json()["id"]
    broker_down.restore()
    worker = celery_worker(queues=["exports"])
    ExportJob.objects.filter(pk=job_id).update(created_at=timezone.now() - dispatch.UNSENT_AFTER * 2)

    assert job_tasks.jobs_send_unsent() == 1  # as beat would run it

    def built() -> bool:
        return ExportJob.objects.filter(pk=job_id, status="done").exists()

    assert wait_for(built, seconds=60), f"export not built; worker log:\n{worker.log()}"
    assert ExportJob.objects.get(pk=job_id).rows == 1


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_an_export_whose_message_redis_lost_is_built_once_redis_is_back(
    own_redis, celery_worker, celery_beat, staff_client
):
    """
    The export's task reaches Redis (``sent_at`` set) and waits there; Redis restarts empty
    (``kill -9``, no persistence) and the message is gone. Beat's heartbeats and the sweep
    find the job and send it again; the worker builds it.
    """
    sellable_product(skus=["LOST-1"], price="4.50")
    with broker_at(own_redis.url):
        response = staff_client.post("/api/v1/integrations/exports/", {"format": "csv"}, format="json")
    assert response.status_code == 202
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert job.sent_at is not None  # Redis took the message
    own_redis.restart()  # and lost it

    env = {**own_redis.env, "WORKER_HEARTBEAT_SECONDS": "1", "JOBS_SWEEP_SECONDS": "1"}
    worker = celery_worker(queues=["default", "exports"], env=env)
    beat = celery_beat(env=env)

    def built() -> bool:
        return ExportJob.objects.filter(pk=job.pk, status="done").exists()

    assert wait_for(built, seconds=120), f"not built; worker log:\n{worker.log()}\nbeat log:\n{beat.log()}"
    assert ExportJob.objects.get(pk=job.pk).rows == 1
    assert "its message was lost; sending it again" in worker.log()
