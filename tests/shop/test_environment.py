"""
Configuration outside ``make run``: ``manage.py`` in a clean environment, the ``.env`` file that
``make run`` writes from ``.env.example``, and one-line messages for a missing or wrong variable.
"""

import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``manage.py`` in an environment that holds ``env`` and nothing else but ``PATH``."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """Nothing configured: no ``.env`` (a path where none is), run-time files in the test's folder."""
    return {"ENV_FILE": str(tmp_path / "absent.env"), "VAR_DIR": str(tmp_path / "var")}


def test_without_a_secret_key_manage_py_says_in_one_line_how_to_make_one(clean_env):
    result = manage("check", env=clean_env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("Configuration error: SECRET_KEY is required when DEBUG is off")
    assert "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'" in result.stderr
    assert ".env" in result.stderr


@pytest.mark.parametrize(
    ("url", "named"),
    [("shop", "no scheme"), ("mysql://shop:hunter2@db/shop", "the scheme 'mysql'")],
)
def test_a_database_url_of_no_accepted_scheme_names_the_accepted_ones(clean_env, url, named):
    result = manage("check", env={**clean_env, "DEBUG": "true", "DATABASE_URL": url})

    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    assert result.stderr.strip() == (
        f"Configuration error: DATABASE_URL has {named}; the shop accepts sqlite:// "
        "(sqlite:///path/to/file.sqlite3) and postgres:// (postgres://user:password@host:5432/name)."
    )
    assert "hunter2" not in result.stderr


def test_the_env_file_fills_in_what_the_environment_does_not_set(tmp_path, clean_env):
    key = secrets.token_urlsafe(50)
    env_file = tmp_path / ".env"
    env_file.write_text(f"# a comment\nDEBUG=true\nSECRET_KEY={key}\nLOG_LEVEL=WARNING\n")
    env = {**clean_env, "ENV_FILE": str(env_file)}
    show = "from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY, s.LOGGING['root']['level'])"

    assert manage("check", env=env).returncode == 0
    result = manage("shell", "-v", "0", "-c", show, env=env)
    assert result.stdout.split() == ["True", key, "WARNING"], result.stderr
    # A variable of the environment wins over the file.
    environment = {**env, "DEBUG": "false", "LOG_LEVEL": "ERROR", "ALLOWED_HOSTS": "shop.example.com"}
    result = manage("shell", "-v", "0", "-c", show, env=environment)
    assert result.stdout.split() == ["False", key, "ERROR"], result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_writes_env_once_from_the_example_with_a_key_of_its_own(tmp_path, clean_env):
    for name in ("Makefile", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)

    def make_env() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "--no-print-directory", ".env"], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )

    assert make_env().returncode == 0
    written = (tmp_path / ".env").read_text()
    example = (ROOT / ".env.example").read_text()
    key = re.search(r"^SECRET_KEY=(.*)$", written, re.MULTILINE).group(1)
    assert len(key) >= 50 and len(set(key)) >= 5
    assert written == example.replace("\nSECRET_KEY=\n", f"\nSECRET_KEY={key}\n")
    assert re.search(r"^DEBUG=true$", written, re.MULTILINE)

    (tmp_path / ".env").write_text(written + "LOG_LEVEL=WARNING\n")  # the developer's edit
    assert make_env().returncode == 0
    assert (tmp_path / ".env").read_text() == written + "LOG_LEVEL=WARNING\n"
    # manage.py works with nothing but that file.
    result = manage("check", env={**clean_env, "ENV_FILE": str(tmp_path / ".env")})
    assert result.returncode == 0, result.stderr


def test_the_env_file_stays_out_of_git_and_of_the_image():
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
