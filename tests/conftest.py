"""Shared fixtures. Tests never touch the network: `no_network` makes any attempt fail.

Also how the suite is scheduled (pyproject's addopts: ``-n auto --dist loadgroup``):
one xdist worker per usable core, tests that share an expensive fixture kept on one
worker, and at the end one line per part of the suite saying what it cost."""

import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import pytest
import submissions as subs

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = Path(__file__).resolve().parent
# Modules that run the instructor's pipeline (nbgrader, grader kernels): the "grading" part.
GRADING_MODULES = {"test_autograde_pipeline.py", "test_grader_attacks.py",
                   "test_assignment2.py", "test_assignment3.py", "test_assignment4.py",
                   "test_assignment5.py", "test_assignment6.py", "test_assignment7.py",
                   "test_forkserver.py"}
PARTS = ("unit", "notebook", "grading")
# The backend axis (scripts/test_backends.sh) runs the suite with KERAS_BACKEND=jax or torch.
# What needs TensorFlow itself is skipped there, saying why: tests marked `tensorflow`
# (test_quantise.py marks itself whole), and these modules whole: the grading pipeline's
# kernels and LiteRT's benchmark.
TENSORFLOW_MODULES = GRADING_MODULES | {"test_small_fast_benchmark.py"}
TENSORFLOW_REASON = ("needs TensorFlow itself ({why}); the backend here is {backend}. "
                     "Run it with KERAS_BACKEND=tensorflow (the default).")


IDENTITY_TEST = "test_identical_to_keras_applications"
IDENTITY_SAMPLE_VAR = "COURSE_IDENTITY_SAMPLE"


def _identity_sample(config, items):
    """With $COURSE_IDENTITY_SAMPLE set (the CI selection of the backend axis), keep one
    keras.applications identity check per network: its first variant at an input size of
    its own (the default 224x224 builds are the slowest); deselect the others. ``all``
    keeps one for every network, a comma-separated list (``vgg16,resnet50``) one for each
    network named, by the name of the ``network`` parameter."""
    wanted = os.environ.get(IDENTITY_SAMPLE_VAR, "")
    if not wanted:
        return
    names = None if wanted == "all" else set(wanted.split(","))
    kept, dropped, seen = [], [], set()
    for item in items:
        spec = getattr(item, "callspec", None)
        if item.originalname != IDENTITY_TEST or spec is None:
            kept.append(item)
            continue
        network = (item.path.name, spec.params.get("network"))
        if (network in seen or spec.id.endswith("-default") or "input_shape" not in spec.id
                or (names is not None and network[1] not in names)):
            dropped.append(item)
        else:
            seen.add(network)
            kept.append(item)
    unknown = names - {network for _, network in seen} if names else set()
    if unknown and any(i.originalname == IDENTITY_TEST for i in items):
        raise pytest.UsageError(f"{IDENTITY_SAMPLE_VAR} names networks with no identity "
                                f"check at a size of their own: {sorted(unknown)}")
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def keras_backend() -> str:
    """The backend Keras will use, read as Keras reads it (environment, then keras.json)."""
    import keras

    return keras.backend.backend()
MAX_WORKERS = 8  # each worker imports TensorFlow and may grade with two kernels of its own


@pytest.fixture(autouse=True)
def smoke_profile(monkeypatch):
    """Tests run in the smoke profile unless a test says otherwise."""
    monkeypatch.setenv("COURSE_PROFILE", "smoke")


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt raises at once, like a machine with no network."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# --- One grading batch per assignment (tests/submissions.py: register_cases) -------------


def _batch_fixture(assignment):
    @pytest.fixture(scope="session", name=f"graded_{assignment}")
    def graded(tmp_path_factory):
        """Every case registered for this assignment, released once and graded in one
        autograde batch; see ``submissions.grade_through_pipeline`` for what it holds."""
        return subs.grade_registered(tmp_path_factory.mktemp(f"course-{assignment}"),
                                     assignment)

    return graded


for _assignment in subs.BATCH_LIMITS:
    globals()[f"graded_{_assignment}"] = _batch_fixture(_assignment)


# --- Scheduling on xdist workers ---------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: the cores this process may use (not the machine's), at most
    MAX_WORKERS; PYTEST_XDIST_AUTO_NUM_WORKERS overrides."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def _shared_fixtures(item):
    """Fixtures of the test suite itself that outlive one test, by name and scope."""
    info = getattr(item, "_fixtureinfo", None)
    found = {}
    for name, defs in (info.name2fixturedefs.items() if info else ()):
        fixturedef = defs[-1]
        module = getattr(fixturedef.func, "__module__", "") or ""
        source = getattr(getattr(fixturedef.func, "__code__", None), "co_filename", "")
        if fixturedef.scope != "function" and (
                source.startswith(str(TESTS)) or module in ("conftest", "submissions")):
            found[name] = fixturedef.scope
    return found


def _part(item):
    if item.get_closest_marker("notebook"):
        return "notebook"
    return "grading" if item.path.name in GRADING_MODULES else "unit"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """Mark each test with its part of the suite, and give xdist's loadgroup its groups:
    every test of one assignment's grading batch on one worker (the batch is graded once);
    the tests of a module with module-scoped fixtures on one worker (built once); every
    other test free to go wherever a core is idle."""
    _identity_sample(config, items)
    batches = {f"graded_{a}": a for a in subs.BATCH_LIMITS}
    # Tests that need two batches tie those batches to one worker: merge them.
    merged = {a: {a} for a in subs.BATCH_LIMITS}
    uses = {}
    backend = keras_backend()
    for item in items:
        if _part(item) != "notebook":
            item.add_marker(getattr(pytest.mark, _part(item)))
        if backend != "tensorflow":
            marker = item.get_closest_marker("tensorflow")
            if marker or item.path.name in TENSORFLOW_MODULES:
                why = (marker.args[0] if marker and marker.args else
                       "the grading pipeline" if item.path.name in GRADING_MODULES else
                       item.path.name)
                item.add_marker(pytest.mark.skip(
                    reason=TENSORFLOW_REASON.format(why=why, backend=backend)))
        used = {batches[n] for n in item.fixturenames if n in batches}
        uses[item.nodeid] = used
        if len(used) > 1:
            union = set().union(*(merged[a] for a in used))
            for a in union:
                merged[a] = union
    for item in items:
        used = uses[item.nodeid]
        if used:
            group = "grade-" + "-".join(sorted(merged[next(iter(used))]))
        elif any(scope != "session" for scope in _shared_fixtures(item).values()):
            group = item.path.name
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(group))
    if hasattr(config, "workerinput"):  # the order in which xdist hands out the groups
        items[:] = sorted(items, key=_heaviest_first)
    _write_groups(config, items)


def _heaviest_first(item):
    """Long groups first, so that neither worker is left with one at the end while the
    other idles: the grading batches (minutes each), the modules that share fixtures,
    the notebooks (tens of seconds each), then the many short tests. A module's tests
    keep their order (the sort is stable)."""
    groups = [m.args[0] for m in item.iter_markers("xdist_group") if m.args]
    if any(str(g).startswith("grade-") for g in groups):
        return 0
    if groups:
        return 1
    return 2 if _part(item) == "notebook" else 3


# pytest-xdist's loadgroup carries a test's group in its node id, which pytest 9.2 no longer
# lets it change (pytest-dev/pytest-xdist#1386): the groups would be silently ignored. So
# each worker writes the groups it collected to a file, and the controller's scheduler
# below reads them; tests with an xdist_group suffix (older pytest) group as before.
_GROUPS_FILE = "course_groups_file"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """Controller: tell each worker where to write its groups."""
    config = node.config
    if not hasattr(config, "_course_groups_dir"):
        config._course_groups_dir = tempfile.mkdtemp(prefix="pytest-groups-")
        config.add_cleanup(lambda: shutil.rmtree(config._course_groups_dir, ignore_errors=True))
    node.workerinput[_GROUPS_FILE] = os.path.join(config._course_groups_dir,
                                                  f"{node.gateway.id}.json")


def _write_groups(config, items):
    """Worker: the node id -> group map, for the controller's scheduler."""
    path = getattr(config, "workerinput", {}).get(_GROUPS_FILE)
    if not path:
        return
    groups = {}
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names:
            groups[item.nodeid] = "_".join(names)
    with open(path + ".tmp", "w") as handle:
        json.dump(groups, handle)
    os.replace(path + ".tmp", path)  # complete before the worker reports its collection


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    config.option.loadscopereorder = False  # keep _heaviest_first's order, not test counts

    class CourseGroups(LoadGroupScheduling):
        """loadgroup, with the groups read from the workers' files."""

        _groups = None

        def _split_scope(self, nodeid):
            if self._groups is None:
                self._groups = {}
                folder = getattr(config, "_course_groups_dir", None)
                for name in sorted(os.listdir(folder)) if folder else ():
                    if name.endswith(".json"):
                        with open(os.path.join(folder, name)) as handle:
                            self._groups.update(json.load(handle))
            if nodeid in self._groups:
                return self._groups[nodeid]
            return super()._split_scope(nodeid)

    return CourseGroups(config, log)


def pytest_collection_finish(session):
    """Move what exists once the tests are collected (TensorFlow, Keras, the course and the
    test modules, all kept to the end) out of the garbage collector's view. Every
    ``keras.backend.clear_session()`` (and every ``structure_only``) runs a full
    ``gc.collect()``, which otherwise walks those ~400,000 objects each time: 0.15 to 0.3 s
    a call, thousands of calls in the suite. Objects made later are collected as before."""
    import gc

    gc.collect()
    gc.freeze()


# --- What each part of the suite cost ----------------------------------------------------

_STARTED = time.monotonic()


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line per part: how many tests and the seconds they took (set-up, call and
    tear-down; a shared fixture counts for the first test that needs it). With xdist the
    parts run side by side, so they add up to more than the wall clock."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller reports
        return
    seconds = dict.fromkeys(PARTS, 0.0)
    tests = {part: set() for part in PARTS}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if not hasattr(report, "duration") or not hasattr(report, "when"):
                continue
            keywords = getattr(report, "keywords", {})
            part = next((p for p in ("notebook", "grading") if p in keywords), "unit")
            seconds[part] += report.duration
            tests[part].add(report.nodeid)
    if not any(tests.values()):
        return
    workers = getattr(config.option, "numprocesses", None) or 0
    wall = time.monotonic() - _STARTED
    terminalreporter.write_sep("=", "time by part")
    for part in PARTS:
        terminalreporter.write_line(f"{part:<9} {len(tests[part]):4d} tests "
                                    f"{seconds[part]:8.1f} s")
    terminalreporter.write_line(
        f"{'total':<9} {sum(len(t) for t in tests.values()):4d} tests "
        f"{sum(seconds.values()):8.1f} s of test time in {wall:.1f} s wall clock"
        f" on {workers if workers else 1} {'workers' if workers else 'process'}")
