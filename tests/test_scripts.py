"""The README's two commands: scripts/optimise and scripts/test make the clone's own virtual
environment with the machine's python3 (never installing into it: PEP 668), say plainly
what to install when Python cannot make one, and CI runs the README's test command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    """The shell commands of the README's 'The two commands' section."""
    section = README.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_the_readme_gives_two_commands_and_ci_runs_the_second() -> None:
    first, second = commands()
    assert first == "sh scripts/optimise instances/bournemouth-dorset-poole.yaml"
    assert (REPO / "instances" / "bournemouth-dorset-poole.yaml").is_file()
    assert second == "sh scripts/test"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci[-1] == second  # CI ends by running the README's command, word for word
    assert "pip install" not in "\n".join(ci)  # nothing installed into the machine's Python
    for script in ("optimise", "test"):
        text = (REPO / "scripts" / script).read_text(encoding="utf-8")
        assert text.startswith("#!/bin/sh\n")
        assert "ensure_venv" in text


def clone(tmp_path: Path) -> Path:
    """A copy of what the scripts need (no .venv)."""
    root = tmp_path / "clone"
    shutil.copytree(REPO / "scripts", root / "scripts")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def fake_python(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-python3"
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def script(root: Path, python: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHON": str(python),
           "HOME": str(root)}
    return subprocess.run(["sh", str(root / "scripts" / "optimise"), *args],
                          capture_output=True, text=True, env=env, cwd=root, check=False,
                          timeout=60)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_python_without_venv_says_what_to_install(tmp_path: Path) -> None:
    root = clone(tmp_path)
    real = shutil.which("python3") or "python3"
    python = fake_python(tmp_path, 'case "$*" in *ensurepip*) exit 1;; esac\n'
                                   f'exec {real} "$@"')
    done = script(root, python, "--help")
    assert done.returncode == 1
    assert "cannot make a virtual environment" in done.stderr
    assert "sudo apt-get install python3-venv" in done.stderr
    assert not (root / ".venv").exists()  # nothing half made


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_missing_or_old_python_is_named(tmp_path: Path) -> None:
    root = clone(tmp_path)
    done = script(root, tmp_path / "no-such-python", "--help")
    assert done.returncode == 1
    assert "needs Python 3.11 or newer" in done.stderr
    old = fake_python(tmp_path, 'case "$*" in *version_info*) exit 1;; *python_version*) '
                                'echo 3.10.12;; esac')
    done = script(root, old, "--help")
    assert done.returncode == 1
    assert "needs Python 3.11 or newer" in done.stderr and "3.10.12" in done.stderr
