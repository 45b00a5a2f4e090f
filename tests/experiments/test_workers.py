"""Worker processes: Ctrl-C during a run with workers prints one line and the resume command,
not a traceback per worker; a parent killed outright leaves no worker computing for nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARGS = ["-m", "offramp", "run", "kursk-2024", "--futures", "80000", "--chunk-size", "2000",
        "--workers", "2", "--no-report"]


def _parents() -> dict[int, int]:
    """Every process's parent (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry.name)] = int(fields[1])
    return found


def _below(pid: int) -> tuple[list[int], list[int]]:
    """(children, grandchildren) of `pid`: a run's children are the fork server and
    multiprocessing's resource tracker, its workers the fork server's children."""
    parents = _parents()
    children = [child for child, parent in parents.items() if parent == pid]
    return children, [process for process, parent in parents.items() if parent in children]


def _start(tmp_path) -> subprocess.Popen:
    # SIGINT as a terminal leaves it (a shell running the tests in the background ignores it,
    # and an ignored SIGINT is inherited: Python would then install no handler for it)
    process = subprocess.Popen([sys.executable, *ARGS, "--out", str(tmp_path / "run")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        manifest = tmp_path / "run" / "manifest.json"
        _, workers = _below(process.pid)
        if manifest.is_file() and '"done"' in manifest.read_text() and len(workers) >= 2:
            return process
        time.sleep(0.1)
    process.kill()
    pytest.fail("the run did not start its workers in time")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_with_workers_says_how_to_resume_without_tracebacks(tmp_path):
    process = _start(tmp_path)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends: the whole process group
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "resume with: offramp run --resume" in stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_their_parent_is_killed(tmp_path):
    process = _start(tmp_path)
    children, workers = _below(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 30
    left = children + workers
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and
                                              "Z" not in _state(pid) for pid in left):
        time.sleep(0.1)
    alive = [pid for pid in left if Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)]
    for pid in alive:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"outlived their parent: {[(pid, _command(pid)) for pid in alive]}"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:120]
    except OSError:
        return "?"
