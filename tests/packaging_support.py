"""The dashboard as a city's IT installs it: a wheel built from the source, in a venv of its own.

`build_and_install(folder)` copies the source (without .git, .venv, data/ or
secrets), builds the wheel with pip as `pip install .` would, and installs it
into a new venv. That venv sees the test environment's packages through a
.pth file, so the dependencies are not downloaded and installed again (which
would take minutes); the wheel itself goes in with --no-deps. Its commands
are then run from a folder outside the checkout, where nothing of the source
can be imported by accident.

`serving(...)` starts `lead-dashboard serve` and stops it, with everything it
started, at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Never copied into the build folder: the checkout's own environment and outputs, and a
# developer's real secrets (the tests plant a decoy instead).
NOT_COPIED = (
    ".git", ".venv", "data", "build", "out", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "secrets.toml",
)  # fmt: skip
SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class InstalledPackage:
    wheel: Path
    venv: Path
    source: Path  # the copy the wheel was built from, with the decoy secrets and data

    def command(self, name: str) -> Path:
        return self.venv / "bin" / name

    @property
    def python(self) -> Path:
        return self.command("python")


def copy_source(destination: Path) -> Path:
    """The checkout's files under `destination`, with a decoy secrets.toml and data/ planted.

    The wheel is built from a copy so that setuptools' build/ and egg-info never land in
    the checkout (nor a stale build/ of an earlier run in the wheel).
    """
    shutil.copytree(PROJECT_ROOT, destination, ignore=shutil.ignore_patterns(*NOT_COPIED))
    (destination / ".streamlit" / "secrets.toml").write_text('[auth]\ncookie_secret = "decoy"\n')
    (destination / "data").mkdir()
    (destination / "data" / "lead.sqlite").write_bytes(b"decoy database")
    return destination


def build_wheel(source: Path, out: Path) -> Path:
    """`pip wheel` of `source`, in an isolated build with the setuptools pyproject.toml names.

    Isolated, as `pip install .` builds: the test environment's own setuptools may be
    older than the one pyproject.toml requires. pip caches it after the first run.
    """
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip wheel exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    (wheel,) = out.glob("lead_dashboard-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> None:
    """A new venv holding `wheel`, which sees this interpreter's packages for its dependencies."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    own = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    # Listed after the venv's own site-packages, so the installed wheel wins over anything there.
    (Path(own) / "test-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],  # fmt: skip
        check=True,
        timeout=300,
    )


def build_and_install(folder: Path) -> InstalledPackage:
    source = copy_source(folder / "source")
    wheel = build_wheel(source, folder / "wheels")
    install(wheel, folder / "venv")
    return InstalledPackage(wheel=wheel, venv=folder / "venv", source=source)


def clean_environment(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This environment without DATABASE_URL, LEAD_* or PYTHONPATH, then `overrides`.

    A developer's own settings must not change what the installed commands do; an
    override of None removes the variable.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LEAD_") and k not in ("DATABASE_URL", "PYTHONPATH")
    }
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def serving(
    package: InstalledPackage, cwd: Path, env: Mapping[str, str], *arguments: str
) -> Iterator[Server]:
    """`lead-dashboard serve --port P --address 127.0.0.1 ARGUMENTS` in `cwd`, until the end.

    The server runs in a session of its own, and is stopped with everything it started
    (kaleido's Chromium) by that process group.
    """
    port = free_port()
    log_path = cwd / f"serve-{port}.log"
    command = [
        str(package.command("lead-dashboard")), "serve",
        "--port", str(port), "--address", "127.0.0.1", *arguments,
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_until_healthy(process, server)
        yield server
    finally:
        _stop(process)


def _wait_until_healthy(process: subprocess.Popen, server: Server) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"lead-dashboard serve exited {process.returncode} before it answered:\n"
                + server.log()
            )
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200 and response.read().strip() == b"ok":
                    return
        time.sleep(0.1)
    raise RuntimeError(
        f"lead-dashboard serve did not answer /_stcore/health within {SERVER_START_TIMEOUT_S:.0f}"
        " s:\n" + server.log()
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # the group id is the server's own pid
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
