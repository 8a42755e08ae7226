"""
What the benchmark scripts share: a database of their own on a local PostgreSQL server, and
Django set up as a worker runs it (test settings, an in-memory broker, no DEBUG query log).
"""

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
ALLOWED_DB_HOSTS = {"127.0.0.1", "localhost"}
_SEED_PRODUCTS_PER_SKU = 0.39  # seed_demo makes about 2.6 variants per product


def bench_url(server_url: str, database: str) -> str:
    """The URL of ``database`` on the server of ``server_url``; exits unless that is local."""
    parts = urlsplit(server_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql") or parts.hostname not in ALLOWED_DB_HOSTS:
        sys.exit("DATABASE_URL must be postgres://...@127.0.0.1 (or localhost): the benchmark runs locally.")
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


def admin_execute(server_url: str, statement: str) -> None:
    """Run ``statement`` (CREATE or DROP DATABASE) on the server's ``postgres`` database."""
    import psycopg

    url = urlunsplit(urlsplit(server_url)._replace(path="/postgres", query=""))
    with psycopg.connect(url.replace("pgsql://", "postgresql://"), autocommit=True) as conn:
        conn.execute(statement)


def setup_django(database_url: str, *, cache_key_prefix: str, broker_url: str = "memory://") -> None:
    """
    Set Django up on ``database_url`` as a worker: its cache keys under ``cache_key_prefix``, its
    messages to ``broker_url`` (by default an in-memory broker that nothing consumes).
    """
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings.test"
    os.environ["CELERY_BROKER_URL"] = broker_url
    os.environ["CACHE_KEY_PREFIX"] = cache_key_prefix
    os.environ["DEBUG"] = "false"  # DEBUG keeps every query in memory: not what a worker does
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"  # the Django test client's host
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def seed_skus(count: int) -> list[str]:
    """
    Migrate, seed a catalog of at least ``count`` SKUs without stock (``seed_demo --no-stock``,
    topped up 2,000 products at a time if the first seed falls short) and return the first
    ``count`` SKUs by id.
    """
    from django.core.management import call_command

    from catalog.models import Variant  # read only: the benchmark writes its input files from it

    call_command("migrate", verbosity=0)
    call_command(
        "seed_demo", "--products", str(int(count * _SEED_PRODUCTS_PER_SKU) + 1), "--no-stock", verbosity=0
    )
    while Variant.objects.count() < count:
        call_command("seed_demo", "--products", "2000", "--no-stock", "--seed", "2", verbosity=0)
    return list(Variant.objects.order_by("id").values_list("sku", flat=True)[:count])


@contextmanager
def bench_database(
    database: str, *, cache_key_prefix: str, keep: bool = False, broker_url: str = "memory://"
) -> Iterator[None]:
    """
    Create ``database`` afresh on the server ``DATABASE_URL`` names (local only), set Django up
    on it with a temporary ``VAR_DIR`` (media, run-time files), and on the way out drop it
    (unless ``keep``) and remove that directory.
    """
    server_url = os.environ.get("DATABASE_URL", "")
    database_url = bench_url(server_url, database)
    admin_execute(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin_execute(server_url, f'CREATE DATABASE "{database}"')
    var_dir = tempfile.mkdtemp(prefix=f"{cache_key_prefix}-var-")
    os.environ["VAR_DIR"] = var_dir
    try:
        setup_django(database_url, cache_key_prefix=cache_key_prefix, broker_url=broker_url)
        yield
        from django.db import connections

        connections.close_all()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        if not keep:
            admin_execute(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
