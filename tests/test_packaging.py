"""The installable package: the wheel a city's IT builds, its commands run from any folder.

Slow (marked `slow`; `-m "not slow"` leaves it out): the session fixture
`installed_package` builds the wheel for real with pip (an isolated build, which
fetches the setuptools that pyproject.toml requires from the package index, or
pip's cache) and installs it into a venv of its own (tests/packaging_support.py).
Every command then runs in a temporary folder outside the checkout. The browser
check of the served pages is tests/browser/test_installed_package.py.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging_support import PROJECT_ROOT, InstalledPackage, clean_environment, serving
from release_builder import minimal_release

from data_access import __version__

pytestmark = pytest.mark.slow

PACKAGES = ("data_access", "ui", "briefing", "lead_dashboard")
DATA_COMMANDS = ("init", "demo", "validate", "load", "precompute", "releases", "export")


def run(
    package: InstalledPackage, cwd: Path, command: str, *args: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(package.command(command)), *args],
        cwd=cwd,
        env=env if env is not None else clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def wheel_names(package: InstalledPackage) -> set[str]:
    with zipfile.ZipFile(package.wheel) as wheel:
        return set(wheel.namelist())


def test_the_wheel_holds_every_module_the_app_and_its_settings(installed_package):
    names = wheel_names(installed_package)
    # Every module of the checkout's packages: a subpackage missing from pyproject.toml's
    # explicit list would be missing here.
    modules = {
        path.relative_to(PROJECT_ROOT).as_posix()
        for name in PACKAGES
        for path in (PROJECT_ROOT / name).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules - names == set()
    app = {
        "lead_dashboard/app/dashboard.py",
        "lead_dashboard/app/.streamlit/config.toml",
        *(
            f"lead_dashboard/app/app_pages/{page.name}"
            for page in (PROJECT_ROOT / "app_pages").glob("*.py")
        ),
    }
    assert app - names == set()
    assert f"lead_dashboard-{__version__}.dist-info/licenses/LICENSE" in names


def test_the_wheel_holds_nothing_else_of_the_source_folder(installed_package):
    # The source it was built from had a .streamlit/secrets.toml and a data/lead.sqlite.
    assert (installed_package.source / ".streamlit" / "secrets.toml").is_file()
    assert (installed_package.source / "data" / "lead.sqlite").is_file()
    names = wheel_names(installed_package)
    allowed = re.compile(
        r"(data_access|ui|briefing|lead_dashboard)/([\w/]+/)?\w+\.py"
        r"|lead_dashboard/app/\.streamlit/config\.toml"
        rf"|lead_dashboard-{re.escape(__version__)}\.dist-info/[\w/.]+"
    )
    assert sorted(n for n in names if not allowed.fullmatch(n)) == []
    assert not [n for n in names if "secrets" in n or "sqlite" in n or n.startswith("tests/")]


def test_the_version_has_one_source_shown_everywhere(installed_package, tmp_path):
    with zipfile.ZipFile(installed_package.wheel) as wheel:
        metadata = wheel.read(f"lead_dashboard-{__version__}.dist-info/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata
    shown = run(installed_package, tmp_path, "lead-dashboard", "--version")
    assert (shown.returncode, shown.stdout) == (0, f"lead-dashboard {__version__}\n")
    as_module = run(installed_package, tmp_path, "python", "-m", "data_access", "--version")
    assert as_module.stdout == f"lead-dashboard {__version__}\n"
    changelog = (PROJECT_ROOT / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in changelog, "CHANGELOG.md has no section for this version"


def test_the_data_commands_run_from_a_folder_outside_the_checkout(installed_package, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    release = minimal_release().write(tmp_path / "release")

    shown = run(installed_package, site, "lead-dashboard", "--help")
    assert shown.returncode == 0 and shown.stdout.startswith("usage: lead-dashboard ")
    listed = set(re.findall(r"^    (\w+)", shown.stdout, flags=re.MULTILINE))
    assert listed == {*DATA_COMMANDS, "serve"}
    shown = run(installed_package, site, "lead-briefing", "--help")
    assert shown.returncode == 0 and shown.stdout.startswith("usage: lead-briefing ")

    # Without DATABASE_URL: data/lead.sqlite under the folder the command runs in.
    steps = [
        ("init",),
        ("validate", str(release)),
        ("load", str(release)),
        ("precompute",),
        ("releases",),
    ]
    done = {step[0]: run(installed_package, site, "lead-dashboard", *step) for step in steps}
    for name, result in done.items():
        assert result.returncode == 0, f"lead-dashboard {name}:\n{result.stdout}\n{result.stderr}"
    assert "data/lead.sqlite under the current folder" in done["init"].stdout
    assert (site / "data" / "lead.sqlite").is_file()
    assert "Next: lead-dashboard precompute --release test-2024-12" in done["load"].stdout
    assert "cubes of 2 site(s) ready" in done["precompute"].stdout
    assert "test-2024-12" in done["releases"].stdout

    # `python -m data_access` works too, from the same folder and on the same file.
    as_module = run(installed_package, site, "python", "-m", "data_access", "releases")
    assert as_module.returncode == 0 and "test-2024-12" in as_module.stdout


def test_the_data_commands_use_database_url_when_set(installed_package, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'lead.sqlite'}"
    done = run(
        installed_package,
        tmp_path,
        "lead-dashboard",
        "init",
        env=clean_environment({"DATABASE_URL": url}),
    )
    assert done.returncode == 0 and "named by DATABASE_URL" in done.stdout
    assert (tmp_path / "elsewhere" / "lead.sqlite").is_file()
    assert not (tmp_path / "data").exists()


def test_serve_answers_and_serves_the_installed_dashboard(installed_package, tmp_path):
    with serving(installed_package, tmp_path, clean_environment()) as server:
        with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as health:
            assert health.read() == b"ok"
        for path in ("/", "/overview"):
            with urllib.request.urlopen(server.url + path, timeout=10) as page:
                assert page.status == 200 and '<div id="root">' in page.read().decode()
        log = server.log()
    assert (
        f"Serving the public dashboard ({installed_app_folder(installed_package, tmp_path)})" in log
    )
    # Started in a folder without a database: it says so, and how to make one.
    assert "There is no data/lead.sqlite here yet" in log


def test_serve_refuses_a_mistyped_setting_before_starting(installed_package, tmp_path):
    env = clean_environment({"LEAD_AUDIENCE": "everyone"})
    refused = run(installed_package, tmp_path, "lead-dashboard", "serve", env=env)
    assert refused.returncode == 2
    assert "LEAD_AUDIENCE is 'everyone'" in refused.stderr and "Uvicorn" not in refused.stdout
    refused = run(installed_package, tmp_path, "lead-dashboard", "serve", "--port", "70000")
    assert refused.returncode == 2 and "'70000' is not a TCP port" in refused.stderr


def installed_app_folder(package: InstalledPackage, cwd: Path) -> Path:
    done = subprocess.run(
        [
            str(package.python),
            "-c",
            "import lead_dashboard.serve as s; print(s.app_script().parent)",
        ],
        cwd=cwd,  # not the checkout, whose lead_dashboard `python -c` would import
        capture_output=True,
        text=True,
        check=True,
    )
    folder = Path(done.stdout.strip())
    assert package.venv in folder.parents, f"the app served is not the installed one: {folder}"
    return folder


def test_pyproject_admits_exactly_the_pinned_requirements():
    """pyproject.toml's ranges name the packages requirements.txt pins, and admit each pin."""
    declared = {
        Requirement(text).name.lower(): Requirement(text)
        for text in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    }
    pinned = {}
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            requirement = Requirement(text)
            (version,) = [spec.version for spec in requirement.specifier if spec.operator == "=="]
            pinned[requirement.name.lower()] = (requirement, version)
    assert sorted(declared) == sorted(pinned)
    for name, (requirement, version) in pinned.items():
        assert declared[name].specifier.contains(version), f"{name}=={version} is outside its range"
        assert declared[name].extras == requirement.extras, name
