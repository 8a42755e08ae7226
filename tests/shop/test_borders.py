"""
The import-linter contracts in pyproject.toml catch what they are there to catch.

Each test lints a copy of the sources (shop, catalog, pyproject.toml) with one offending module
added, and checks that exactly the expected contract breaks. No database is needed. A first test
checks that every context is named where README.md's "Adding a context" says.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
# The sibling of the running interpreter, so the venv's import-linter (no `python -m` entry point).
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# "Privacy ... KEPT (47 ignored imports)": the privacy contract ignores the imports of the public modules.
_SUMMARY = re.compile(r"^(?P<name>.+) (?P<verdict>KEPT|BROKEN)(?: \(\d+ ignored imports?\))?$", re.MULTILINE)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A copy of the sources and the configuration, made once per module."""
    copy = tmp_path_factory.mktemp("pristine")
    root_packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
        "root_packages"
    ]
    for package in {name.split(".")[0] for name in root_packages}:
        shutil.copytree(REPO / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.fixture
def repo(pristine, tmp_path):
    """A fresh copy for one test to spoil."""
    return Path(shutil.copytree(pristine, tmp_path / "repo"))


@pytest.fixture(scope="module")
def contract_names():
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    return {contract["id"]: contract["name"] for contract in contracts}


def lint(repo: Path) -> subprocess.CompletedProcess:
    # Wide enough that rich does not wrap a contract's name; the copy, not the checkout, on sys.path.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["COLUMNS"] = "250"
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verdicts(result: subprocess.CompletedProcess) -> dict[str, str]:
    return {match["name"]: match["verdict"] for match in _SUMMARY.finditer(result.stdout)}


def assert_broken(result, contract_names, *broken_ids):
    """Exactly the contracts with these ids are broken; the others are kept."""
    output = result.stdout + result.stderr
    expected = {name: "BROKEN" if id_ in broken_ids else "KEPT" for id_, name in contract_names.items()}
    assert verdicts(result) == expected, output
    assert result.returncode == (1 if broken_ids else 0), output


def write(repo: Path, module_path: str, source: str) -> None:
    path = repo / module_path
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(repo).parents:
        if parent != Path(".") and not (repo / parent / "__init__.py").exists():
            (repo / parent / "__init__.py").write_text("")
    path.write_text(source)


def add_root_package(repo: Path, name: str) -> None:
    config = repo / "pyproject.toml"
    text, count = re.subn(
        r"^root_packages = \[", f'root_packages = ["{name}", ', config.read_text(), flags=re.M
    )
    assert count == 1
    config.write_text(text)


def remove_root_package(repo: Path, name: str) -> None:
    """Drop ``name`` from root_packages (and from the containers, which must be root packages)."""
    config = repo / "pyproject.toml"
    lines = config.read_text().splitlines(keepends=True)
    for key in ("root_packages", "containers"):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = ["))
        packages = [package for package in re.findall(r'"([^"]+)"', lines[index]) if package != name]
        lines[index] = f"{key} = [" + ", ".join(f'"{package}"' for package in packages) + "]\n"
    config.write_text("".join(lines))


def contexts_on_disk() -> set[str]:
    """The contexts written: packages with an apps.py and an api.py, at the top or inside shop."""
    return {
        ".".join(api.parent.relative_to(REPO).parts)
        for pattern in ("*/api.py", "shop/*/api.py")
        for api in REPO.glob(pattern)
        if (api.parent / "apps.py").is_file()
    }


def test_every_context_is_named_in_each_list_that_governs_it():
    """A context left out of a list would escape that contract (or not be installed) without a word."""
    contexts = contexts_on_disk()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]
    contracts = {contract["id"]: contract for contract in config["importlinter"]["contracts"]}
    top_level = {context.split(".")[0] for context in contexts}

    assert "shop.accounts" in contexts and "catalog" in contexts
    assert set(contracts["contexts"]["layers"]) - {"shop.kernel"} == contexts
    assert set(contracts["privacy"]["protected_modules"]) == contexts
    assert set(contracts["inside-contexts"]["containers"]) == contexts
    assert top_level <= set(config["importlinter"]["root_packages"])
    assert contexts <= set(settings.INSTALLED_APPS)
    packaged = config["setuptools"]["packages"]["find"]["include"]
    assert all(any(fnmatch(package, pattern) for pattern in packaged) for package in top_level)


def test_the_sources_as_they_are_keep_every_contract(repo, contract_names):
    assert_broken(lint(repo), contract_names)


def test_a_context_importing_another_contexts_models_breaks_privacy(repo, contract_names):
    write(repo, "integrations/api.py", "from catalog.api import get_variants  # noqa: F401\n")
    write(
        repo,
        "integrations/services.py",
        '"""Integration writes."""\n\nfrom catalog.models import Variant  # noqa: F401\n',
    )

    result = lint(repo)

    assert_broken(result, contract_names, "privacy")
    assert "Illegal imports of protected package catalog" in result.stdout
    assert "- integrations.services -> catalog.models (l.3)" in result.stdout
    assert "integrations.api" not in result.stdout


def test_a_context_importing_shop_accounts_models_breaks_privacy(repo, contract_names):
    selectors = repo / "cart" / "selectors.py"
    source = selectors.read_text() + "\nfrom shop.accounts import api, models  # noqa: E402, F401\n"
    selectors.write_text(source)
    line = len(source.splitlines())

    result = lint(repo)

    assert_broken(result, contract_names, "privacy")
    assert "Illegal imports of protected package shop.accounts" in result.stdout
    assert f"- cart.selectors -> shop.accounts.models (l.{line})" in result.stdout
    assert "cart.selectors -> shop.accounts.api" not in result.stdout


def test_a_context_missing_from_root_packages_fails_the_lint(repo):
    """Every contract names the contexts it needs, so a forgotten root package cannot go unchecked."""
    remove_root_package(repo, "integrations")

    result = lint(repo)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Missing layer 'integrations': module integrations does not exist." in result.stdout


def test_the_kernel_importing_a_context_breaks_the_layers_across_contexts(repo, contract_names):
    write(repo, "shop/kernel/rogue.py", "from catalog import api  # noqa: F401\n")

    result = lint(repo)

    assert_broken(result, contract_names, "contexts")
    assert "shop.kernel.rogue -> catalog.api (l.1)" in result.stdout


def test_models_importing_services_breaks_the_layers_inside_a_context(repo, contract_names):
    models = repo / "catalog" / "models.py"
    models.write_text(models.read_text() + "\nfrom catalog import services  # noqa: E402, F401\n")

    result = lint(repo)

    assert_broken(result, contract_names, "inside-contexts")
    assert "catalog.models is not allowed to import catalog.services" in result.stdout


def test_an_undeclared_module_in_a_context_breaks_the_layers_inside_a_context(repo, contract_names):
    write(repo, "catalog/utils.py", "")

    result = lint(repo)

    assert_broken(result, contract_names, "inside-contexts")
    assert "- catalog.utils" in result.stdout


@pytest.mark.parametrize(
    ("module_path", "source", "link"),
    [
        (
            "catalog/handlers.py",
            "from shop.urls import urlpatterns  # noqa: F401\n",
            "catalog.handlers -> shop.urls",
        ),
        ("catalog/handlers.py", "import shop  # noqa: F401\n", "catalog.handlers -> shop"),
        (
            "catalog/handlers.py",
            "from shop.settings.base import INSTALLED_APPS  # noqa: F401\n",
            "catalog.handlers -> shop.settings.base",
        ),
        (
            "shop/kernel/rogue.py",
            "from shop.celery import app  # noqa: F401\n",
            "shop.kernel.rogue -> shop.celery",
        ),
    ],
    ids=["shop.urls", "shop-package-imports-celery-app", "a-settings-module", "from-the-kernel"],
)
def test_importing_the_project_wiring_breaks_the_wiring_contract(
    repo, contract_names, module_path, source, link
):
    write(repo, module_path, source)

    result = lint(repo)

    assert_broken(result, contract_names, "wiring")
    assert f"- {link} (l.1)" in result.stdout


def test_a_service_importing_a_task_breaks_the_layers_inside_a_context(repo, contract_names):
    dispatch = repo / "integrations" / "services" / "dispatch.py"
    dispatch.write_text(
        dispatch.read_text() + "\nfrom integrations.tasks import exports  # noqa: E402, F401\n"
    )

    result = lint(repo)

    assert_broken(result, contract_names, "inside-contexts")
    assert "integrations.services.dispatch -> integrations.tasks.exports" in result.stdout


def test_the_kernels_events_importing_its_tasks_breaks_the_kernel_events_layers(repo, contract_names):
    events = repo / "shop" / "kernel" / "events.py"
    events.write_text(events.read_text() + "\nfrom shop.kernel import tasks  # noqa: E402, F401\n")

    result = lint(repo)

    assert_broken(result, contract_names, "kernel-events")
    assert "shop.kernel.events is not allowed to import shop.kernel.tasks" in result.stdout
