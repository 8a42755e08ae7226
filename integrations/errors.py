"""
What integrations refuse, one exception per fact: raised by ``integrations/services`` where the
fact is detected and answered over HTTP by ``integrations/rest_api/problems.py`` (the admin shows
their messages). Failures of the ERP itself (``erp_client.ErpUnavailable``, ``ErpRejected``) stay
inside the hand-over: they are retried or dead-lettered, never an answer to a request.
"""


class ImportFileInvalid(ValueError):
    """
    An uploaded file is refused before it is stored. Each subclass is one reason; ``code`` names
    it (the HTTP layer answers with it as the problem code).
    """

    code = "invalid"


class FileTooLarge(ImportFileInvalid):
    """The file is larger than the upload limit."""

    code = "too_large"


class FileEmpty(ImportFileInvalid):
    """The file has no bytes, or a header and no rows."""

    code = "empty"


class NotCsv(ImportFileInvalid):
    """The file is not CSV text (by name and type, or not UTF-8 text)."""

    code = "not_csv"


class BadHeader(ImportFileInvalid):
    """The first line is not the header the import expects."""

    code = "bad_header"


class ImportFileUnreadable(Exception):
    """A stored file cannot be read (missing, not UTF-8, broken CSV): the job fails with this."""


class ImportFileMissing(ImportFileUnreadable):
    """The job's file is not in the default storage: the job fails with this, naming the file."""


class ExportNotReady(Exception):
    """The export is not done yet (queued or running), or failed: there is no file to download."""

    def __init__(self, status: str):
        super().__init__(f"The export is {status}, not done.")
        self.status = status


class ExportFileMissing(Exception):
    """A done export's file is not in the default storage (deleted, or a storage not shared)."""


class HandoverNotFound(LookupError):
    """No hand-over for this order number."""

    def __init__(self, order_number: str):
        super().__init__(f"No hand-over for the order {order_number!r}.")
        self.order_number = order_number


class HandoverNotFailed(Exception):
    """Only a failed (dead-lettered) hand-over can be retried."""
