import keras
import matplotlib
import numpy as np
import pytest

from course_utils import plots, zoo
from course_utils.inspection import layer_table

matplotlib.use("Agg")


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.axison]


def test_history_compares_runs_train_solid_validation_dashed():
    h = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8],
         "val_accuracy": [0.4, 0.7]}
    fig = plots.plot_history({"a": h, "b": h})
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "accuracy"
    styles = [line.get_linestyle() for line in loss_ax.lines]
    assert styles == ["-", "--", "-", "--"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), [1.1, 0.7])
    single = plots.plot_history(h, metrics=("loss",))
    assert len(single.axes) == 1 and len(single.axes[0].lines) == 2


def test_history_rejects_what_is_not_a_history():
    with pytest.raises(TypeError, match="History"):
        plots.plot_history(42)
    with pytest.raises(ValueError, match="None of the requested metrics"):
        plots.plot_history({"loss": [1.0]}, metrics=("auc",))


def test_image_grid_titles_and_mistakes_in_red():
    images = np.random.rand(5, 28, 28)
    fig = plots.show_images(images, [0, 1, 2, 3, 4], ["a", "b", "c", "d", "e"], ncols=3)
    assert len(fig.axes) == 6 and len(_visible_axes(fig)) == 0  # axes are hidden
    assert [ax.get_title() for ax in fig.axes[:5]] == ["a", "b", "c", "d", "e"]
    fig = plots.show_images(images[:2, ..., None], [0, 1], predictions=[0, 2])
    assert fig.axes[0].title.get_color() == "black" and fig.axes[1].title.get_color() == "red"
    assert fig.axes[1].get_title() == "2\n(1)"
    with pytest.raises(ValueError, match=r"images\[None\]"):
        plots.show_images(np.zeros((28, 28)))


def test_filters_from_a_layer_or_a_kernel():
    conv = keras.layers.Conv2D(6, 5)
    conv.build((None, 32, 32, 1))
    fig = plots.show_filters(conv, ncols=3)
    assert sum(1 for ax in fig.axes if ax.images) == 6
    rgb = plots.show_filters(np.random.randn(3, 3, 3, 4))
    assert rgb.axes[0].images[0].get_array().shape == (3, 3, 3)
    with pytest.raises(ValueError, match=r"\(k_h, k_w, C_in, C_out\)"):
        plots.show_filters(np.zeros((3, 3)))


def test_feature_maps_grid():
    fig = plots.show_feature_maps(np.random.rand(1, 10, 10, 12), ncols=4, max_maps=8)
    assert sum(1 for ax in fig.axes if ax.images) == 8
    with pytest.raises(ValueError):
        plots.show_feature_maps(np.zeros((10, 10)))


def test_cost_chart_has_one_bar_per_layer_with_work():
    table = layer_table(zoo.lenet5())
    fig = plots.plot_cost(table)
    params_ax, macs_ax = fig.axes
    assert len(params_ax.patches) == 7  # the input and flatten rows carry nothing
    heights = [bar.get_width() for bar in params_ax.patches]
    assert sum(heights) == pytest.approx(100)
    assert max(heights) == pytest.approx(100 * 48_120 / 61_706)
    assert len(plots.plot_cost(table, top=3).axes[0].patches) == 3
    with pytest.raises(ValueError, match="layer_table"):
        plots.plot_cost({"params": [1]})


def test_confusion_matrix_counts_and_plot():
    counts = plots.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2])
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    fig = plots.plot_confusion_matrix([0, 0, 1], [0, 1, 1], ["x", "y"])
    assert fig.axes[0].images[0].get_array()[0, 0] == 50
    with pytest.raises(ValueError, match="argmax"):
        plots.confusion_matrix([0, 1], np.zeros((2, 3)))


def test_race_draws_each_recipe_against_its_seconds_with_target_and_goal():
    curves = {"peer": [(10.0, 0.8), (20.0, 0.88), (30.0, 0.9)],
              "fast": [(4.0, 0.2), (8.0, 0.91)]}
    fig = plots.plot_race(curves, target=0.9, goal=0.92)
    (ax,) = fig.axes
    recipe_lines = [line for line in ax.lines if line.get_marker() == "o"]
    assert [line.get_label() for line in recipe_lines] == ["peer", "fast"]
    np.testing.assert_array_equal(recipe_lines[1].get_xdata(), [4.0, 8.0])
    np.testing.assert_array_equal(recipe_lines[1].get_ydata(), [0.2, 0.91])
    levels = sorted(line.get_ydata()[0] for line in ax.lines if line.get_marker() != "o")
    assert levels == [0.9, 0.92]
    # the fast run's first epoch near chance is cut off: the axis starts near the late points
    assert ax.get_ylim()[0] == pytest.approx(0.88 - 0.05)
    assert len(plots.plot_race({"one": [(1.0, 0.5)]}).axes[0].lines) == 1


@pytest.mark.parametrize("bad", [{}, [(1.0, 0.5)], {"peer": []}, {"peer": [(1.0,)]}])
def test_race_rejects_what_is_not_curves(bad):
    with pytest.raises(ValueError, match="plot_race: expected"):
        plots.plot_race(bad)
