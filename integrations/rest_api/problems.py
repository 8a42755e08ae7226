"""How the integrations' HTTP operations answer the exceptions they meet (``shop.kernel.http.problems``)."""

from integrations import errors
from shop.kernel.http.problems import Maps, ProblemTable

PROBLEMS: ProblemTable = {
    errors.FileTooLarge: Maps(400, errors.FileTooLarge.code),
    errors.FileEmpty: Maps(400, errors.FileEmpty.code),
    errors.NotCsv: Maps(400, errors.NotCsv.code),
    errors.BadHeader: Maps(400, errors.BadHeader.code),
    errors.ExportNotReady: Maps(409, "export_not_ready"),
    errors.ExportFileMissing: Maps(404, "export_file_missing"),
    errors.HandoverNotFound: Maps(404, "not_found", "No hand-over for this order number."),
    errors.HandoverNotFailed: Maps(409, "not_failed"),
}
