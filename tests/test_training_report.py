import json

import numpy as np

from course_utils import profiles, zoo
from course_utils.report import read_results, report
from course_utils.training import fit_and_evaluate


def test_report_prints_the_profile_and_records_when_asked(tmp_path, monkeypatch, capsys):
    path = tmp_path / "results.jsonl"
    line = report("accuracy", 0.9123, "{:.1%}")
    assert line == "accuracy: 91.2%  [profile: smoke]" and not path.exists()
    monkeypatch.setenv("COURSE_RESULTS", str(path))
    report("accuracy", 0.9, "{:.1%}", profiles.PROFILES["cpu"])
    report("accuracy", 0.95, "{:.1%}", profiles.PROFILES["cpu"])
    records = [json.loads(x) for x in path.read_text().splitlines()]
    assert records[0]["profile"] == "cpu" and records[0]["value"] == 0.9
    assert read_results(path) == {"accuracy": 0.95}
    assert "[profile: cpu]" in capsys.readouterr().out


def test_fit_and_evaluate_learns_something_and_times_it(capsys):
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 512)
    x = rng.normal(0, 0.3, (512, 32, 32, 1)).astype("float32")
    x[y == 1, 10:20, 10:20, 0] += 1.0  # class 1 has a bright square
    run = fit_and_evaluate(zoo.lenet5("modern", classes=2), (x[:384], y[:384]),
                           (x[384:], y[384:]), epochs=3, batch_size=32, name="toy")
    assert run.test_accuracy > 0.9
    assert run.profile == "smoke" and run.epochs == 3
    assert len(run.history["loss"]) == 3 and "val_accuracy" in run.history
    assert run.seconds > 0 and 0 < run.seconds_per_epoch <= run.seconds
    run.report()
    out = capsys.readouterr().out
    assert "toy test accuracy:" in out and "toy training time:" in out


def test_the_smoke_profile_trains_eagerly_and_the_others_compile():
    """Smoke runs a handful of steps, fewer than tracing a graph would pay for; cpu and gpu
    compile (the zoo's training tests use those profiles, so the graphs are tested)."""
    from course_utils.profiles import PROFILES

    x = np.zeros((40, 32, 32, 1), "float32")
    y = np.arange(40) % 2
    for name, eager in [("smoke", True), ("cpu", False), ("gpu", False)]:
        run = fit_and_evaluate(zoo.lenet5("modern", classes=2), (x, y), (x[:8], y[:8]),
                               epochs=1, batch_size=16, profile=PROFILES[name])
        assert run.model.run_eagerly is eager, (
            f"the {name} profile should train with run_eagerly={eager}: see "
            f"Profile.run_eagerly in course_utils/profiles.py")


def test_fit_and_evaluate_rejects_mismatched_data():
    import pytest

    x = np.zeros((4, 32, 32, 1), "float32")
    with pytest.raises(ValueError, match="differ in number"):
        fit_and_evaluate(zoo.lenet5(), (x, np.zeros(3)), (x, np.zeros(4)), epochs=1)


def test_multi_output_models_train_on_the_same_labels_and_report_the_main_output():
    import keras

    from course_utils.training import summarize

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 256)
    x = rng.normal(0, 0.3, (256, 8)).astype("float32")
    x[y == 1, 0] += 3.0
    inputs = keras.Input((8,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, [
        keras.layers.Dense(2, activation="softmax", name="predictions")(hidden),
        keras.layers.Dense(2, activation="softmax", name="aux1_predictions")(hidden)])
    run = fit_and_evaluate(model, (x[:192], y[:192]), (x[192:], y[192:]), epochs=8,
                           batch_size=32, learning_rate=3e-2, loss_weights=[1.0, 0.3])
    assert run.test_accuracy > 0.8
    assert run.history["accuracy"] == run.history["predictions_accuracy"]
    assert "val_accuracy" in run.history and "aux1_predictions_loss" in run.history
    table = summarize([run])
    assert table.loc[run.name, "params"] == model.count_params()
    assert list(table.columns) == ["params", "MACs", "test accuracy", "epochs", "s / epoch",
                                   "profile"]
    import pytest

    with pytest.raises(ValueError, match="one weight per output"):
        fit_and_evaluate(model, (x, y), (x, y), epochs=1, loss_weights=[1.0])
