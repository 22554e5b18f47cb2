import shutil
import subprocess
import sys
from pathlib import Path

from course_utils import env


def test_environment_report_says_what_the_course_needs(capsys):
    info = env.environment_report()
    for key in ("python", "keras", "backend", "tensorflow", "gpu", "colab", "profile",
                "fashion-mnist"):
        assert key in info, key
    assert info["keras"].startswith("3.")
    assert info["gpu"] == "no" and info["colab"] == "no"
    assert info["profile"].startswith("smoke")
    printed = capsys.readouterr().out
    assert "keras" in printed and info["tensorflow"] in printed


def test_in_colab_follows_the_google_colab_module(monkeypatch):
    import types

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert env.in_colab() is False
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert env.in_colab() is True


def _command(name):
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed; `make setup` installs it"
    return found


def test_jupyterlab_and_nbgrader_are_installed_beside_the_tests():
    for command in ([_command("jupyter"), "lab", "--version"], [_command("nbgrader"), "--version"]):
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
