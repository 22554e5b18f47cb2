"""What a Colab user runs first, run here: notebook 00, set-up cell included, in a fresh
virtual environment shaped like Colab's (issue 15).

The environment: a new venv (``--without-pip``) whose one ``.pth`` line adds a folder of
symbolic links to this test's own site-packages, minus the course's editable install (its
dist-info and ``__editable__`` files). So TensorFlow, Keras, NumPy, pandas, Matplotlib,
scikit-image, IPython, ipykernel and pip are "preinstalled" without downloading or copying
anything, and ``import course_utils`` fails there until the set-up cell has run. pip installs
into the new venv's own site-packages, and with ``--no-index`` it cannot find another version
of anything, so it can neither upgrade nor remove a shared package; the course's own
dist-info is not visible to it, so there is nothing of this checkout's install to replace.

Colab, faked: the kernel (pinned to the new venv's Python by a kernel spec on
``$JUPYTER_PATH``) starts with ``google.colab`` in ``sys.modules`` (an IPython start-up file;
the same file stops a kernel that is not the new venv's). The network, replaced: the cell's
``git+https://github.com/...`` URL reaches a local git repository made from this working
tree, through git's ``url.<local>.insteadOf`` in a private git config (the cell's text is run
unchanged); ``GIT_ALLOW_PROTOCOL=file`` refuses any other transport, ``PIP_NO_INDEX`` keeps
pip off PyPI and ``PIP_CONFIG_FILE=/dev/null`` drops any pip configuration. Building the
course needs ``setuptools>=77`` (pyproject.toml), which pip's isolated build would fetch from
PyPI: ``PIP_NO_BUILD_ISOLATION=0`` (pip reads it inverted: it turns isolation *off*) builds
with the setuptools already there instead, as Colab's would be online.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import nbformat
import pytest

from course_utils.maintainer import colab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "00_setup_and_tour.ipynb"
# Import names of what Colab has (the distribution may be tensorflow or tensorflow-cpu).
COLAB_PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "matplotlib", "skimage", "IPython",
                  "ipykernel", "pip", "setuptools")
COURSE_DIST = "convnet_classics"

FAKE_COLAB = """\
import sys, types
if sys.prefix != {prefix!r}:  # a kernel of another Python would install the course there
    print(f"not the Colab-shaped venv: {{sys.prefix}}", file=sys.stderr)
    import os
    os._exit(3)
sys.modules["google.colab"] = types.ModuleType("google.colab")
"""

VERSIONS = """\
import importlib.metadata as md, importlib.util, json, sys
names = {names!r}
dists = md.packages_distributions()
found = {{n: md.version(dists[n][0]) for n in names}}
where = {{n: importlib.util.find_spec(n).origin for n in ("tensorflow", "keras", "numpy")}}
course = importlib.util.find_spec("course_utils")
print(json.dumps({{"versions": found, "where": where, "prefix": sys.prefix,
                   "course_utils": course.origin if course else None}}))
"""

DRIVER = """\
import sys
sys.path.insert(0, {root!r})  # this process only: the runner that drives the kernel
from course_utils.maintainer.runner import NotebookError, execute_notebook
try:
    execute_notebook({notebook!r}, "smoke", 600, {output!r})
except NotebookError as exc:
    print(exc, file=sys.stderr)
    sys.exit(1)
"""


# It executes notebook 00 (in smoke), set-up cell first.
pytestmark = [pytest.mark.notebook,
              pytest.mark.skipif(sys.platform == "win32", reason="a POSIX venv and symlinks")]


def _run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)


def _site_packages() -> list[Path]:
    """Where this test's own packages are (the ones Colab is to have)."""
    return list(dict.fromkeys(Path(sysconfig.get_path(k)) for k in ("purelib", "platlib")))


def _preinstalled(directory: Path) -> Path:
    """Symbolic links to every entry of this environment's site-packages except the
    course's own install (dist-info, editable finder and .pth files)."""
    directory.mkdir()
    for site in _site_packages():
        for entry in site.iterdir():
            name = entry.name
            if (name.startswith((COURSE_DIST, f"__editable__.{COURSE_DIST}",
                                 f"__editable___{COURSE_DIST}", "course_utils"))
                    or name.endswith(".pth") or (directory / name).exists()):
                continue
            (directory / name).symlink_to(entry)
    return directory


def _local_repository(directory: Path, env: dict) -> Path:
    """A git repository on branch main holding this working tree (tracked files and
    untracked ones git does not ignore): what GitHub would serve."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                  cwd=ROOT, env=env)
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, directory / name)
    for args in (["init", "-q", "-b", colab.BRANCH], ["add", "-A"],
                 ["commit", "-q", "-m", "the working tree, for the Colab set-up test"]):
        done = _run(["git", *args], cwd=directory, env=env)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return directory


def _versions(python: Path, env: dict, cwd: Path) -> dict:
    done = _run([str(python), "-c", VERSIONS.format(names=COLAB_PACKAGES)], env=env, cwd=cwd)
    assert done.returncode == 0, f"reading versions in the Colab-shaped venv:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def colab_run(tmp_path_factory):
    """Build the venv, read what it has, run notebook 00 there as Colab would, read again."""
    for name in ("tensorflow", "ipykernel"):  # found, not imported (TensorFlow takes seconds)
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"Colab has {name}; this environment has not")
    if shutil.which("git") is None:
        pytest.skip("the set-up cell installs with git, which is not on PATH")
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    assert major >= 77, (
        f"building the course offline needs setuptools>=77 (pyproject's build backend; online, "
        f"pip's isolated build fetches it), and this environment has {setuptools.__version__}. "
        f"Hint: the dev extra asks for it; run `make setup` again")
    tmp = tmp_path_factory.mktemp("colab")
    start = time.perf_counter()
    venv = tmp / "venv"
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert done.returncode == 0, f"python -m venv failed: {done.stderr}"
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                      "'purelib'))"]).stdout.strip())
    (site / "colab_preinstalled.pth").write_text(f"{_preinstalled(tmp / 'preinstalled')}\n")
    # The environment of everything below: no trace of this checkout or this venv.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "KERAS_", "JUPYTER", "GIT_",
                                "COURSE_PROFILE", "COURSE_RESULTS"))}
    unreachable = "http://127.0.0.1:9"  # anything that still tries the network fails at once
    env.update({
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv),
        "KERAS_BACKEND": "tensorflow",  # Colab's, whatever ~/.keras/keras.json says
        "IPYTHONDIR": str(tmp / "ipython"),
        "JUPYTER_PATH": str(tmp / "jupyter"), "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"),
        "GIT_CONFIG_GLOBAL": str(tmp / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_COLOR": "1", "PIP_CACHE_DIR": str(tmp / "pip-cache"),
        "http_proxy": unreachable, "https_proxy": unreachable,
        "HTTP_PROXY": unreachable, "HTTPS_PROXY": unreachable,
    })
    keep = ("COURSE_DATA_DIR", "COURSE_REQUIRE_DATA")  # where Fashion-MNIST is, as for the suite
    env.update({k: os.environ[k] for k in keep if k in os.environ})
    repo = _local_repository(tmp / "github", env)
    (tmp / "gitconfig").write_text(f'[url "file://{repo}"]\n\tinsteadOf = {colab.REPOSITORY}\n')
    env["GIT_ALLOW_PROTOCOL"] = "file"
    startup = tmp / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-google-colab.py").write_text(FAKE_COLAB.format(prefix=str(venv)))
    spec = tmp / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab-shaped)", "language": "python"}))
    before = _versions(python, env, tmp)
    built = time.perf_counter() - start
    output = tmp / "executed" / NOTEBOOK
    driver = _run([str(python), "-c", DRIVER.format(root=str(ROOT),
                   notebook=str(repo / "notebooks" / NOTEBOOK), output=str(output))],
                  env=env, cwd=tmp)
    ran = time.perf_counter() - start - built
    head = _run(["git", "rev-parse", "HEAD"], cwd=repo, env=env).stdout.strip()
    after = _versions(python, env, tmp)
    print(f"Colab-shaped venv built in {built:.1f} s; notebook 00 with its set-up cell ran in "
          f"{ran:.1f} s")
    return {"before": before, "after": after, "driver": driver, "output": output,
            "site": site, "venv": venv, "head": head}


def _outputs(cell) -> str:
    return "".join(o.get("text", "") + "".join(o.get("traceback", []))
                   for o in cell.get("outputs", []))


def test_the_venv_is_colab_shaped_before_the_cell(colab_run):
    before = colab_run["before"]
    assert before["course_utils"] is None, (
        f"course_utils was importable before the set-up cell ran, from "
        f"{before['course_utils']}; expected the course not to be installed. Hint: the "
        "preinstalled folder must leave out the course's editable install")
    assert before["prefix"] == str(colab_run["venv"])
    for name in ("tensorflow", "keras"):
        assert "preinstalled" in before["where"][name], (
            f"{name} should come from the preinstalled folder; found at {before['where'][name]}")


def test_notebook_00_runs_after_the_setup_cell_as_on_colab(colab_run):
    driver = colab_run["driver"]
    executed = (nbformat.read(colab_run["output"], as_version=4)
                if colab_run["output"].exists() else None)
    setup = _outputs(executed.cells[1]) if executed else "(no executed copy)"
    assert driver.returncode == 0, (
        "notebook 00 failed in the Colab-shaped venv after its set-up cell.\n"
        f"set-up cell's output:\n{setup[-3000:]}\nrunner:\n{driver.stderr[-3000:]}\n"
        "Hint: run `pip install \"convnet-classics @ git+file://<a clone>@main\"` in a venv "
        "with only Keras and TensorFlow to see what pip says")
    assert executed.cells[1].source == colab.setup_cell_source()
    assert "ERROR" not in setup, f"pip reported an error in the set-up cell:\n{setup}"


def test_the_course_is_installed_into_the_venv_and_nothing_else(colab_run):
    after = colab_run["after"]
    site = colab_run["site"]
    assert after["course_utils"] and Path(after["course_utils"]).is_relative_to(site), (
        f"after the set-up cell course_utils should import from the venv's site-packages "
        f"({site}); got {after['course_utils']}")
    new = sorted(p.name for p in site.iterdir()
                 if p.name not in ("colab_preinstalled.pth", "__pycache__"))
    expected = ["convnet_classics-0.1.0.dist-info", "course_utils"]
    assert new == expected, (
        f"the set-up cell installed {new} into the venv; expected only {expected}: anything "
        "else is a package of Colab's that pip replaced. Hint: keep the core dependencies "
        "within what Colab has (pyproject.toml)")


def test_pip_installed_the_cells_url_from_the_local_copy(colab_run):
    """The cell ran unchanged (pip records its URL) and git fetched the local repository
    (pip records the commit it checked out)."""
    record = colab_run["site"] / "convnet_classics-0.1.0.dist-info" / "direct_url.json"
    assert record.exists(), f"no {record.name}: the course was not installed from a URL"
    direct = json.loads(record.read_text())
    assert direct["url"] == colab.REPOSITORY, direct
    assert direct["vcs_info"] == {"vcs": "git", "requested_revision": colab.BRANCH,
                                  "commit_id": colab_run["head"]}, (
        f"pip installed {direct['vcs_info']}; expected branch {colab.BRANCH} at the local "
        f"copy's commit {colab_run['head']}")


def test_colabs_tensorflow_and_keras_are_kept(colab_run):
    before, after = colab_run["before"], colab_run["after"]
    assert after["versions"] == before["versions"], (
        f"versions changed by the set-up cell: before {before['versions']}, after "
        f"{after['versions']}; expected Colab's to be kept")
    assert after["where"] == before["where"]
    executed = nbformat.read(colab_run["output"], as_version=4)
    report = _outputs(executed.cells[4])  # environment_report(): what the kernel imported
    for name in ("keras", "tensorflow"):
        line = next((x for x in report.splitlines() if x.split()[:1] == [name]), "")
        assert line.split()[-1:] == [before["versions"][name]], (
            f"the kernel reported {line!r}; expected {name} {before['versions'][name]}")
