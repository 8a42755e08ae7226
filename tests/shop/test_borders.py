"""
The import-linter contracts in pyproject.toml catch what they are there to catch.

Each test lints a copy of the sources (shop, catalog, pyproject.toml) with one offending module
added, and checks that exactly the expected contract breaks. No database is needed.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The sibling of the running interpreter, so the venv's import-linter (no `python -m` entry point).
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
_SUMMARY = re.compile(r"^(?P<name>.+) (?P<verdict>KEPT|BROKEN)$", re.MULTILINE)


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
    assert "integrations.services is not allowed to import catalog.models" in result.stdout
    assert "integrations.services -> catalog.models (l.3: from catalog.models import Variant" in result.stdout
    assert "integrations.api" not in result.stdout


def test_a_context_missing_from_root_packages_breaks_privacy(repo, contract_names):
    remove_root_package(repo, "integrations")

    result = lint(repo)

    assert_broken(result, contract_names, "privacy")
    assert "integrations exists but is not in root_packages" in result.stdout


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
    "source",
    ["from shop.urls import urlpatterns  # noqa: F401\n", "import shop  # noqa: F401\n"],
    ids=["shop.urls", "shop-package-imports-celery-app"],
)
def test_a_context_importing_the_project_wiring_breaks_the_wiring_contract(repo, contract_names, source):
    write(repo, "catalog/handlers.py", source)

    assert_broken(lint(repo), contract_names, "wiring")


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
