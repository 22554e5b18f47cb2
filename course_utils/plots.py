"""Plots the notebooks share. Each function draws one figure and returns it."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np


def _as_history(h):
    history = getattr(h, "history", h)
    if not isinstance(history, dict) or not history:
        raise TypeError(
            f"Expected a Keras History (what model.fit returns) or a dict of metric lists; "
            f"got {type(h).__name__}."
        )
    return history


def plot_history(histories, metrics=("loss", "accuracy")):
    """Training curves: one panel per metric, solid for training, dashed for validation.

    ``histories`` is one History (or its ``.history`` dict) or ``{label: History}`` to
    compare several runs on the same axes.
    """
    if isinstance(histories, dict) and histories and all(
        isinstance(v, (list, tuple, np.ndarray)) for v in histories.values()
    ):
        runs = {"": histories}
    elif isinstance(histories, dict):
        runs = {label: _as_history(h) for label, h in histories.items()}
    else:
        runs = {"": _as_history(histories)}
    metrics = [m for m in metrics if any(m in h for h in runs.values())]
    if not metrics:
        raise ValueError("None of the requested metrics is in the history.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, (label, h) in enumerate(runs.items()):
            color = f"C{i}"
            prefix = f"{label} " if label else ""
            if metric in h:
                epochs = np.arange(1, len(h[metric]) + 1)
                ax.plot(epochs, h[metric], color=color, label=f"{prefix}train")
            if f"val_{metric}" in h:
                epochs = np.arange(1, len(h[f"val_{metric}"]) + 1)
                ax.plot(epochs, h[f"val_{metric}"], color=color, linestyle="--",
                        label=f"{prefix}validation")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _image_stack(images):
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(
            f"Expected a stack of images shaped (N, H, W), (N, H, W, 1) or (N, H, W, 3); got "
            f"{images.shape}. Hint: for a single image pass images[None]."
        )
    return images


def show_images(images, labels=None, class_names=None, predictions=None, ncols=8,
                size=1.4):
    """A grid of images titled with their labels; with ``predictions``, each title reads
    ``predicted (true)`` and wrong ones are red."""
    images = _image_stack(images)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    height = size * nrows * (1.35 if predictions is not None else 1.15)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, height), squeeze=False)

    def name(label):
        label = int(label)
        return class_names[label] if class_names is not None else str(label)

    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray" if images.ndim == 3 else None)
        if predictions is not None and labels is not None:
            wrong = int(predictions[i]) != int(labels[i])
            ax.set_title(f"{name(predictions[i])}\n({name(labels[i])})", fontsize=7,
                         color="red" if wrong else "black")
        elif labels is not None:
            ax.set_title(name(labels[i]), fontsize=8)
    fig.tight_layout()
    return fig


def show_filters(kernel, ncols=8, size=1.0):
    """Convolution filters as images. ``kernel`` is a Conv2D layer or its kernel array
    ``(k_h, k_w, C_in, C_out)``; RGB filters are shown in colour, others per first input
    channel. Each filter is rescaled to its own range (grey = 0 for a symmetric scale)."""
    weights = getattr(kernel, "kernel", kernel)
    if not isinstance(weights, np.ndarray):
        import keras

        weights = keras.ops.convert_to_numpy(getattr(weights, "value", weights))
    if weights.ndim != 4:
        raise ValueError(
            f"Expected a 2-D convolution kernel shaped (k_h, k_w, C_in, C_out); got "
            f"{weights.shape}. Hint: pass a Conv2D layer or layer.kernel."
        )
    c_in, c_out = weights.shape[2], weights.shape[3]
    ncols = max(1, min(ncols, c_out))
    nrows = math.ceil(c_out / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= c_out:
            continue
        w = weights[..., i]
        scale = np.abs(w).max() or 1.0
        if c_in == 3:
            ax.imshow(0.5 + 0.5 * w / scale)
        else:
            ax.imshow(w[..., 0], cmap="gray", vmin=-scale, vmax=scale)
    fig.tight_layout()
    return fig


def show_feature_maps(maps, ncols=8, max_maps=32, size=1.3, title=None):
    """Feature maps ``(H, W, C)`` (or a batch of one) as a grid of grey images, each
    stretched between its own 1st and 99th percentiles so that faint maps stay visible."""
    maps = np.asarray(maps)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(
            f"Expected feature maps shaped (H, W, C) or (1, H, W, C); got {maps.shape}."
        )
    count = min(maps.shape[-1], max_maps)
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            low, high = np.percentile(maps[..., i], [1, 99])
            ax.imshow(maps[..., i], cmap="gray", vmin=low, vmax=max(high, low + 1e-12))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_cost(table, top=None):
    """Per-layer share of parameters next to share of MACs, from ``layer_table``.

    Only layers with parameters or MACs are drawn; ``top`` keeps the largest few.
    """
    required = {"layer", "params", "macs"}
    if not required <= set(getattr(table, "columns", ())):
        raise ValueError("plot_cost expects the DataFrame returned by layer_table(model).")
    rows = table[table["layer"] != "total"].copy()
    rows["macs"] = rows["macs"].fillna(0).astype("int64")
    rows = rows[(rows["params"] > 0) | (rows["macs"] > 0)]
    if top:
        rows = rows.loc[(rows["params"] + rows["macs"]).nlargest(top).index].sort_index()
    params = 100 * rows["params"] / max(rows["params"].sum(), 1)
    macs = 100 * rows["macs"] / max(rows["macs"].sum(), 1)
    y = np.arange(len(rows))
    fig, axes = plt.subplots(1, 2, sharey=True, figsize=(10, 0.3 * len(rows) + 1.5))
    axes[0].barh(y, params, color="C0")
    axes[0].set_title("share of parameters (%)")
    axes[1].barh(y, macs, color="C3")
    axes[1].set_title("share of multiply-accumulates (%)")
    axes[0].set_yticks(y, rows["layer"], fontsize=8)
    axes[0].invert_yaxis()
    for ax in axes:
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, n_classes=None) -> np.ndarray:
    """Counts ``[true, predicted]``."""
    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got {y_true.shape} and "
            f"{y_pred.shape}. Hint: take argmax over the class axis of the predictions."
        )
    n = n_classes or int(max(y_true.max(), y_pred.max()) + 1)
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def plot_confusion_matrix(y_true, y_pred, class_names=None):
    """Confusion matrix as row percentages (each true class sums to 100)."""
    n = len(class_names) if class_names is not None else None
    counts = confusion_matrix(y_true, y_pred, n)
    share = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    names = class_names if class_names is not None else [str(i) for i in range(len(counts))]
    fig, ax = plt.subplots(figsize=(0.6 * len(names) + 2, 0.6 * len(names) + 1.5))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
    for i in range(len(names)):
        for j in range(len(names)):
            if counts[i, j]:
                ax.text(j, i, f"{share[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 50 else "black")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (% of each true class)")
    fig.tight_layout()
    return fig


def _curves(alphas, curves):
    """``curves`` as ``{label: 1-D array}``, each as long as ``alphas``."""
    if not isinstance(curves, dict):
        curves = {"": curves}
    if not curves:
        raise ValueError("curves is empty. Hint: pass {label: losses}, e.g. from loss_line.")
    checked = {}
    for label, losses in curves.items():
        losses = np.asarray(losses, dtype=float)
        if losses.shape != alphas.shape:
            raise ValueError(
                f"Curve {label!r} has shape {losses.shape} but alphas has {alphas.shape}: "
                f"expected one loss per alpha. Hint: pass the same alphas you gave loss_line."
            )
        checked[label] = losses
    return checked


def plot_loss_line(alphas, curves, logy=False):
    """Loss along one direction: ``curves`` is ``{label: losses}`` (or one array), each
    loss at ``w + alpha * d`` from ``landscape.loss_line``. A dotted line marks
    ``alpha = 0``, the weights the model was trained to. ``logy=True`` for a log scale,
    which shows the flat bottom and the steep walls at once."""
    alphas = np.asarray(alphas, dtype=float)
    curves = _curves(alphas, curves)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for i, (label, losses) in enumerate(curves.items()):
        ax.plot(alphas, losses, color=f"C{i}", marker="." if len(alphas) < 40 else None,
                label=label or None)
    if alphas.min() <= 0 <= alphas.max():
        ax.axvline(0, color="gray", linestyle=":", linewidth=1)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("alpha (step along the direction)")
    ax.set_ylabel("loss")
    ax.set_title("loss along a direction")
    ax.grid(alpha=0.3)
    if any(curves):
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _loss_levels(low, high, n_levels):
    """Contour levels from the lowest loss to the highest, log-spaced (most of a loss
    surface is a flat valley floor and a few steep walls; equal spacing would spend all its
    lines on the walls), linear if a loss is not positive."""
    if not high > low:
        return None
    if low > 0:
        return np.geomspace(low, high, n_levels)
    return np.linspace(low, high, n_levels)


def plot_loss_surface(alphas, betas, surfaces, kind="both", max_loss=None, n_levels=20):
    """Loss surfaces side by side: ``surfaces`` is ``{label: losses}`` (or one array) with
    ``losses[i, j]`` at ``alphas[i], betas[j]``, as ``landscape.loss_surface`` returns.

    ``kind="contour"`` draws one contour plot per surface (log-spaced levels shared by all,
    so the same line means the same loss in every panel; the trained point ``(0, 0)`` is
    marked with a cross); ``kind="surface"`` one 3-D surface each; ``"both"`` the contours
    above the 3-D surfaces. ``max_loss`` clips higher losses, as the paper's figures do, so
    that a few huge values at the corners do not flatten the rest.
    """
    from matplotlib.colors import LogNorm
    from mpl_toolkits.mplot3d import Axes3D  # noqa: F401  (registers projection="3d")

    if kind not in ("contour", "surface", "both"):
        raise ValueError(f"kind must be 'contour', 'surface' or 'both'; got {kind!r}.")
    alphas, betas = np.asarray(alphas, dtype=float), np.asarray(betas, dtype=float)
    if not isinstance(surfaces, dict):
        surfaces = {"": surfaces}
    if not surfaces:
        raise ValueError("surfaces is empty. Hint: pass {label: losses} from loss_surface.")
    expected = (len(alphas), len(betas))
    if min(expected) < 2:
        raise ValueError(
            f"A surface needs at least 2 alphas and 2 betas; got {expected[0]} and "
            f"{expected[1]}. Hint: for a single line use plot_loss_line."
        )
    grids = {}
    for label, z in surfaces.items():
        z = np.asarray(z, dtype=float)
        if z.shape != expected:
            raise ValueError(
                f"Surface {label!r} has shape {z.shape}; expected (len(alphas), len(betas)) "
                f"= {expected}. Hint: pass the alphas and betas you gave loss_surface, in "
                f"that order."
            )
        grids[label] = z if max_loss is None else np.minimum(z, max_loss)
    rows = ["contour", "surface"] if kind == "both" else [kind]
    n = len(grids)
    fig = plt.figure(figsize=(4.2 * n, 3.8 * len(rows)))
    low = min(float(np.nanmin(z)) for z in grids.values())
    high = max(float(np.nanmax(z)) for z in grids.values())
    levels = _loss_levels(low, high, n_levels)  # shared: one line, one loss, every panel
    norm = LogNorm(low, high) if 0 < low < high else None
    a, b = np.meshgrid(alphas, betas)  # shaped (len(betas), len(alphas)): z.T
    for row, what in enumerate(rows):  # fig.axes row by row: contours first
        for col, (label, z) in enumerate(grids.items()):
            index = row * n + col + 1
            if what == "contour":
                ax = fig.add_subplot(len(rows), n, index)
                lines = ax.contour(a, b, z.T, levels=levels, cmap="viridis", norm=norm,
                                   linewidths=0.8)
                ax.clabel(lines, lines.levels[::4], fontsize=6, fmt="%.2g")
                if alphas.min() <= 0 <= alphas.max() and betas.min() <= 0 <= betas.max():
                    ax.plot(0, 0, "k+", markersize=8)
            else:
                ax = fig.add_subplot(len(rows), n, index, projection="3d")
                ax.plot_surface(a, b, z.T, cmap="viridis", vmin=low, vmax=high, linewidth=0,
                                antialiased=True)
                if high > low:
                    ax.set_zlim(low, high)  # the same scale in every panel
                ax.set_zlabel("loss")
                ax.set_box_aspect(None, zoom=0.85)  # room for the axis labels
            ax.set_xlabel("alpha (direction 1)")
            ax.set_ylabel("beta (direction 2)")
            ax.set_title(label or "loss surface")
    fig.tight_layout()
    return fig


def plot_pareto(table, value, costs, logx=True, *, front=None, spread=None):
    """Accuracy against cost, one panel per cost column of ``table`` (a DataFrame indexed
    by network name), every point labelled, the points on the Pareto front filled. By
    default each panel has its own front (``glance.pareto_front``: no other network both
    cheaper and at least as accurate), drawn as a line; ``front`` marks one front of all
    the columns at once instead, the same points in every panel. Rows with a missing value
    or cost are left out of that panel.

    Args:
        table: e.g. ``glance.table(...)`` or ``deploy.table(...)``.
        value: the column to maximise, e.g. ``"ImageNet top-1 (%)"``.
        costs: the columns to minimise, e.g. ``["GMACs", "latency (ms)"]``.
        logx: a log scale for the costs (they span orders of magnitude).
        front: a boolean Series indexed like ``table`` (``deploy.pareto_front``'s), or
            ``None`` for each panel's own front.
        spread: ``{cost: column}`` of a cost's spread, drawn as an error bar of half of it
            on each side (e.g. the interquartile range of a latency).
    """
    from course_utils.glance import pareto_front

    costs = [costs] if isinstance(costs, str) else list(costs)
    spread = dict(spread or {})
    missing = [c for c in [value, *costs, *spread.values()]
               if c not in getattr(table, "columns", ())]
    if missing or not costs:
        raise ValueError(
            f"plot_pareto: expected a DataFrame with the columns {[value, *costs]}; "
            f"missing {missing or 'a cost column'}. Hint: pass glance.table(...) and its "
            f"column names.")
    fig, axes = plt.subplots(1, len(costs), figsize=(6 * len(costs), 4.5), squeeze=False)
    for ax, cost in zip(axes[0], costs):
        rows = table[[cost, value]].astype(float).dropna()
        rows = rows[rows[cost] > 0] if logx else rows
        on_front = (pareto_front(rows[cost], rows[value]) if front is None
                    else front.reindex(rows.index, fill_value=False).to_numpy(bool))
        if cost in spread:
            ax.errorbar(rows[cost], rows[value], xerr=table.loc[rows.index, spread[cost]] / 2,
                        fmt="none", ecolor="grey", alpha=0.5)
        ax.scatter(rows[cost], rows[value], facecolors="none", edgecolors="C0",
                   label="network")
        ax.scatter(rows[cost][on_front], rows[value][on_front], color="C3", zorder=3,
                   label="Pareto front" if front is None else
                   f"Pareto front ({', '.join([*costs, value])})")
        if front is None:  # a front of this panel's two columns is a staircase
            ordered = rows[on_front].sort_values(cost)
            ax.step(ordered[cost], ordered[value], where="post", color="C3", alpha=0.6)
        for name, row in rows.iterrows():
            ax.annotate(str(name), (row[cost], row[value]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        if logx:
            ax.set_xscale("log")
        ax.set(xlabel=f"{cost} (log scale)" if logx else cost, ylabel=value,
               title=f"{value} against {cost}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return fig


def plot_lr_finder(finder):
    """The LR range test (``schedules.LRFinder``): the smoothed loss against the learning
    rate on a log scale, the raw per-batch losses faint behind it, and the suggested rate
    (``finder.suggestion()``) as a dashed line."""
    lrs, smoothed = list(getattr(finder, "lrs", ())), list(getattr(finder, "smoothed", ()))
    if len(lrs) < 3 or len(smoothed) != len(lrs):
        raise ValueError(
            f"plot_lr_finder: expected an LRFinder that has run (at least 3 batches); got "
            f"{type(finder).__name__} with {len(lrs)} recorded. Hint: "
            f"finder = schedules.find_learning_rate(model, x, y), then plot it.")
    suggestion = finder.suggestion()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(lrs, finder.losses, color="C0", alpha=0.25, label="batch loss")
    ax.plot(lrs, smoothed, color="C0", label="smoothed")
    ax.axvline(suggestion, color="C3", linestyle="--", label=f"suggestion {suggestion:.2g}")
    finite = np.asarray(smoothed, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.min() > 0:  # the blow-up at the end would flatten the rest: cut it off
        high = min(finite.max(), 4 * finite[0])
        ax.set_ylim(finite.min() - 0.05 * (high - finite.min()), 1.05 * high)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
    ax.set_title("learning-rate range test")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_schedule(schedule, total_steps):
    """A learning-rate schedule (e.g. ``schedules.OneCycle`` or any Keras
    ``LearningRateSchedule``) over steps ``0 .. total_steps``."""
    import keras

    if not callable(schedule) or not isinstance(total_steps, (int, np.integer)) \
            or total_steps < 1:
        raise ValueError(
            f"plot_schedule: expected a schedule (callable on a step) and a positive whole "
            f"total_steps; got {type(schedule).__name__} and {total_steps!r}. Hint: "
            f"plot_schedule(OneCycle(0.1, 1000), 1000).")
    steps = np.arange(total_steps + 1)
    lrs = np.ravel(keras.ops.convert_to_numpy(schedule(steps)))
    if lrs.shape != steps.shape:  # a schedule that takes one step at a time
        lrs = np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in steps])
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot(steps, lrs, color="C0")
    ax.set_xlabel("step (batch)")
    ax.set_ylabel("learning rate")
    ax.set_title(type(schedule).__name__)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_race(curves, target=None, goal=None, title="Accuracy against training time"):
    """Training recipes raced on the clock (``recipes.train_peer`` / ``train_fast``):
    test accuracy after each epoch against the training seconds so far, one line per
    recipe; ``target`` (e.g. the peer's final accuracy) and ``goal`` as horizontal lines.

    Args:
        curves: ``{label: [(seconds, accuracy), ...]}``.
        target: an accuracy to draw dotted, or None.
        goal: an accuracy to draw dashed, or None.
        title: the axes' title.
    """
    if not isinstance(curves, dict) or not curves or not all(
            len(points) and all(len(p) == 2 for p in points) for points in curves.values()):
        raise ValueError(
            f"plot_race: expected {{label: [(seconds, accuracy), ...]}} with at least one "
            f"point per label; got {type(curves).__name__} {curves!r:.80}. Hint: the curves "
            f"that recipes.train_peer and recipes.train_fast return.")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, points in curves.items():
        seconds, accuracy = zip(*points, strict=True)
        ax.plot(seconds, accuracy, marker="o", label=label)
    if target is not None:
        ax.axhline(target, color="grey", ls=":", lw=1, label=f"target ({target:.1%})")
    if goal is not None:
        ax.axhline(goal, color="grey", ls="--", lw=1, label=f"goal ({goal:.0%})")
    # the first epochs of a one-cycle run sit near chance: show the second half's range
    low = min(acc for points in curves.values() for _, acc in points[len(points) // 2:])
    ax.set_ylim(max(0.0, low - 0.05), None)
    ax.set_xlabel("training wall time (s, test evaluation excluded)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
