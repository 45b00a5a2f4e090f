"""Scenario text reaches the terminal without its control characters: an ESC sequence in a name
or a key cannot set the clipboard (OSC 52), retitle the window or clear the screen."""

from __future__ import annotations

from helpers import MINIMAL, run_cli

OSC52 = "\x1b]52;c;ZXZpbA==\x07"
CLEAR = "\x1b[2J"


def test_explain_strips_escapes_from_scenario_text(tmp_path):
    path = tmp_path / "escapes.yaml"
    path.write_text(f'extends: {MINIMAL}\nscenario:\n  description: "calm{OSC52}{CLEAR}"\n'
                    .replace("\x1b", "\\e").replace("\x07", "\\a"))
    result = run_cli("explain", path, "--all")
    assert result.returncode == 0, result.stderr
    assert "calm" in result.stdout
    assert "\x1b]52" not in result.stdout and "\x1b[2J" not in result.stdout
    assert "\x07" not in result.stdout


def test_validate_strips_escapes_from_a_bad_key(tmp_path):
    path = tmp_path / "bad-key.yaml"
    path.write_text(f'extends: {MINIMAL}\nscenario:\n  "evil{CLEAR}key": 1\n'
                    .replace("\x1b", "\\e"))
    result = run_cli("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "evil" in result.stderr and "\x1b" not in result.stderr


def test_a_file_that_is_not_yaml_is_refused_unread(tmp_path):
    """`extends: /etc/passwd` (or any non-YAML file) never has its lines echoed as keys."""
    secret = tmp_path / "secrets.conf"
    secret.write_text("root: hunter2\nadmin: swordfish\n")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {secret}\n")
    for target in (child, secret):
        result = run_cli("validate", target)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "ends in .yaml or .yml" in result.stderr
        assert "hunter2" not in result.stderr and "swordfish" not in result.stderr
