"""benchmarks/fast_recipe.py (issue 13) runs end to end in the smoke profile, and what it
writes is consistent with the curves it measured."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "fast_recipe", ROOT / "benchmarks" / "fast_recipe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fast_recipe():
    return _load_script()


@pytest.fixture(scope="module")
def smoke_run(fast_recipe, tmp_path_factory):
    out = tmp_path_factory.mktemp("fast_recipe")
    path, plot = out / "fast.json", out / "fast.png"
    status = fast_recipe.main(["--profile", "smoke", "--json", str(path), "--plot", str(plot)])
    return status, json.loads(path.read_text()), plot


def _first_reach(points, target):
    return next((s for s, acc in points if acc >= target), None)


def test_smoke_run_trains_both_recipes(smoke_run):
    status, figures, plot = smoke_run
    assert status == 0
    assert figures["profile"] == "smoke"
    assert set(figures["curves"]) == {"peer", "fast_short", "fast_long"}
    for name, points in figures["curves"].items():
        assert len(points) == 2, name  # two smoke epochs each
        seconds = [s for s, _ in points]
        assert seconds[0] > 0, name
        assert all(b > a for a, b in zip(seconds, seconds[1:], strict=False)), name
        assert all(0.0 <= acc <= 1.0 for _, acc in points), name
        assert figures["final"][name] == {"accuracy": points[-1][1], "seconds": points[-1][0]}
    assert plot.stat().st_size > 10_000


def test_smoke_figures_follow_from_the_curves(smoke_run):
    _, figures, _ = smoke_run
    curves = figures["curves"]
    target = curves["peer"][-1][1]
    assert figures["target_accuracy"] == target
    reach = {name: _first_reach(points, target) for name, points in curves.items()}
    assert figures["seconds_to_target"] == reach
    assert reach["peer"] is not None  # the peer reaches its own final accuracy
    goal = figures["accuracy_goal"]
    for name in ("fast_short", "fast_long"):
        if reach[name] is None:
            assert figures["speedup"][name] is None
        else:
            assert figures["speedup"][name] == pytest.approx(reach["peer"] / reach[name])
        assert figures["seconds_to_accuracy_goal"][name] == _first_reach(curves[name], goal)
    ratios = [r for r in figures["speedup"].values() if r is not None]
    met = bool(ratios) and max(ratios) >= 3.0
    assert list(figures["goals"].values())[0] == met


def test_compare_ratio_and_goals(fast_recipe):
    """The figures on curves made up for the purpose: the short run reaches the peer's
    final 90.8% at 40 s where the peer took 150 s; the long one reaches 92% at 250 s."""
    curves = {"peer": [[50.0, 0.88], [100.0, 0.905], [150.0, 0.91], [200.0, 0.908]],
              "fast_short": [[20.0, 0.89], [40.0, 0.912]],
              "fast_long": [[100.0, 0.9], [250.0, 0.921], [400.0, 0.925]]}
    figures = fast_recipe.compare(curves, accuracy_goal=0.92)
    assert figures["target_accuracy"] == 0.908
    assert figures["seconds_to_target"] == {"peer": 150.0, "fast_short": 40.0,
                                            "fast_long": 250.0}
    assert figures["speedup"] == {"fast_short": pytest.approx(3.75),
                                  "fast_long": pytest.approx(0.6)}
    assert figures["best_speedup_run"] == "fast_short"
    assert figures["seconds_to_accuracy_goal"] == {"fast_short": None, "fast_long": 250.0}
    assert figures["accuracy_goal_run"] == "fast_long"
    assert all(figures["goals"].values())
    slow = fast_recipe.compare({"peer": curves["peer"],
                                "fast_short": [[100.0, 0.9], [400.0, 0.93]]}, 0.92)
    assert slow["speedup"]["fast_short"] == pytest.approx(150.0 / 400.0)
    assert not any(slow["goals"].values())
    never = fast_recipe.compare({"peer": curves["peer"], "fast_short": [[10.0, 0.5]]}, 0.92)
    assert never["speedup"] == {"fast_short": None} and never["best_speedup_run"] is None
    assert not any(never["goals"].values())


def test_peer_is_the_keras_io_convnet(fast_recipe):
    model = fast_recipe.peer_model()
    assert model.count_params() == 34_826  # as keras-io's example prints it
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout",
                     "Dense", "Activation"]


def test_seeds_are_summarised_from_each_race(fast_recipe, tmp_path):
    """--seeds 2 races twice; the summary over seeds is read off the two races."""
    path = tmp_path / "fast.json"
    assert fast_recipe.main(["--profile", "smoke", "--seeds", "2", "--json", str(path)]) == 0
    figures = json.loads(path.read_text())
    races = figures["per_seed"]
    assert [race["seed"] for race in races] == [42, 43] == figures["over_seeds"]["seeds"]
    assert races[0]["curves"] == figures["curves"]  # the top level is the first race
    for name, row in figures["over_seeds"]["runs"].items():
        assert row["final_accuracy"] == [race["final"][name]["accuracy"] for race in races]
        if name != "peer":
            assert row["speedup"] == [race["speedup"][name] for race in races]
    for goal, met in figures["over_seeds"]["goals_met"].items():
        assert met == sum(race["goals"][goal] for race in races)
