import keras
import numpy as np
import pytest

import course_utils
from course_utils import profiles


def test_environment_variable_chooses_the_profile(monkeypatch):
    for name in profiles.PROFILES:
        monkeypatch.setenv(profiles.ENV_VAR, name)
        assert profiles.current_profile().name == name
    monkeypatch.setenv(profiles.ENV_VAR, " CPU ")
    assert profiles.current_profile().name == "cpu"


@pytest.mark.parametrize("has_gpu, expected", [(True, "gpu"), (False, "cpu")])
def test_hardware_chooses_when_nothing_is_set(monkeypatch, has_gpu, expected):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    monkeypatch.setattr(profiles, "gpu_available", lambda: has_gpu)
    assert profiles.current_profile().name == expected


def test_this_machine_has_no_gpu_so_auto_is_cpu(monkeypatch):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    assert profiles.gpu_available() is False
    assert profiles.current_profile().name == "cpu"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "fast")
    with pytest.raises(profiles.ProfileError) as info:
        profiles.current_profile()
    message = str(info.value)
    assert "'fast'" in message and "$COURSE_PROFILE" in message
    for name in profiles.PROFILES:
        assert name in message
    assert "Hint" in message


def test_pick_returns_the_value_for_the_current_profile():
    for name, p in profiles.PROFILES.items():
        assert p.pick(smoke=1, cpu=2, gpu=3) == {"smoke": 1, "cpu": 2, "gpu": 3}[name]


def test_pick_must_name_every_profile():
    p = profiles.PROFILES["cpu"]
    with pytest.raises(profiles.ProfileError, match="missing: gpu"):
        p.pick(smoke=1, cpu=2)
    with pytest.raises(profiles.ProfileError, match="unknown: laptop"):
        p.pick(smoke=1, cpu=2, gpu=3, laptop=4)


def test_profiles_scale_up():
    smoke, cpu, gpu = (profiles.PROFILES[n] for n in ("smoke", "cpu", "gpu"))
    assert smoke.n_train and smoke.n_train < 5000 and smoke.epochs == 1
    assert cpu.n_train is None and gpu.n_train is None  # the full dataset
    assert smoke.epochs <= cpu.epochs <= gpu.epochs
    assert gpu.mixed_precision and not cpu.mixed_precision and not smoke.mixed_precision


def test_describe_lists_every_profile():
    table = profiles.describe()
    assert list(table.index) == list(profiles.PROFILES)
    assert table.loc["cpu", "n_train"] == "all"


def test_setup_seeds_reproducibly(capsys):
    course_utils.setup(seed=7)
    a = np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,)))
    course_utils.setup(seed=7)
    b = np.random.rand(3), keras.ops.convert_to_numpy(keras.random.uniform((3,)))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert "Profile: smoke" in capsys.readouterr().out


def test_setup_switches_mixed_precision_on_for_gpu_only():
    try:
        course_utils.setup(profile="gpu", verbose=False)
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        course_utils.setup(profile="cpu", verbose=False)
        assert keras.mixed_precision.global_policy().name == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_clear_session_keeps_the_precision_policy():
    from course_utils.inspection import structure_only

    course_utils.setup(profile="gpu", verbose=False)
    try:
        keras.layers.Dense(1)
        course_utils.clear_session()
        assert keras.mixed_precision.global_policy().name == "mixed_float16", \
            "clear_session must keep the profile's mixed precision"
        assert keras.layers.Dense(1).name == "dense", "names are numbered afresh"
        with structure_only():
            keras.layers.Dense(1)
        assert keras.mixed_precision.global_policy().name == "mixed_float16", \
            "structure_only must keep the profile's mixed precision"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_setup_keeps_the_imports_out_of_the_collectors_view_once(tmp_path):
    """In a fresh process: the first ``setup`` freezes what is imported, so that a
    ``clear_session`` does not walk it; a second ``setup`` (a re-run cell) freezes nothing
    more, so the models built in between stay collectable."""
    import subprocess
    import sys

    script = """
import gc
import course_utils
assert gc.get_freeze_count() == 0
course_utils.setup(verbose=False)
frozen = gc.get_freeze_count()
assert frozen > 100_000, frozen  # Keras, its backend and NumPy's objects
built = [[] for _ in range(1000)]
course_utils.setup(verbose=False)
assert gc.get_freeze_count() == frozen, (gc.get_freeze_count(), frozen)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
