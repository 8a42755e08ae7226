"""How the accounts' HTTP operations answer the exceptions they meet (``shop.kernel.http.problems``)."""

from shop.accounts import errors
from shop.kernel.http.problems import Maps, ProblemTable


def _email(exc: errors.EmailTaken) -> dict:
    return {"errors": {"email": ["Already registered."]}}


def _password(exc: errors.WeakPassword) -> dict:
    return {"errors": {"password": list(exc.messages)}}


PROBLEMS: ProblemTable = {
    errors.EmailTaken: Maps(400, "email_taken", members=_email),
    errors.WeakPassword: Maps(400, "weak_password", "The password is too weak.", _password),
}
