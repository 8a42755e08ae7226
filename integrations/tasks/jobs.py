"""
The beat task that sends the tasks of import and export jobs that never reached the broker, or
whose message the broker lost.
"""

from celery import shared_task

from integrations.services import dispatch


@shared_task(name="integrations.jobs_send_unsent", ignore_result=True, soft_time_limit=60, time_limit=90)
def jobs_send_unsent() -> int:
    """
    Send the task of every job left ``queued`` without reaching the broker, or whose message its
    queue lost (``dispatch.send_lost``); return how many.
    """
    return dispatch.send_unsent() + dispatch.send_lost()
