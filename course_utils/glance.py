"""The zoo at a glance: every ImageNet network the course builds, side by side.

For each network: the lesson that builds it, its parameters and multiply-accumulates
(MACs) per image at the input size it was built for (its paper's), its CPU latency at
batch 1, and the ImageNet top-1 accuracy its paper reports, with the table or section it
comes from::

    from course_utils import glance
    costs = glance.costs()                       # counted without drawing any weight
    seen = glance.select(until="12")             # the networks of lessons 02 to 12
    timed = glance.latencies(["ResNet-50", "EfficientNet-B0"], repeats=10)
    table = glance.table(latency=timed)
    front = glance.pareto_front(table["GMACs"], table["ImageNet top-1 (%)"])

The reported accuracies are data (:data:`ZOO`), each with its citation and how it was
measured (one centre crop, ten crops, ...); where a paper reports no ImageNet top-1 the
entry is empty and its note says why. Papers measured them with their own training and
test recipes, so they compare networks, not this course's training.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from course_utils.zoo.efficientnet import KERAS_COEFFICIENTS
from course_utils.zoo.regnet import paper_name


class Reported(NamedTuple):
    """What a paper reports: ImageNet top-1 accuracy in percent (100 minus the top-1
    error where the paper gives an error; ``None`` where it reports none), the paper,
    where in it, a link, and how it was measured or why there is no number."""

    top1: float | None
    paper: str
    where: str
    link: str
    note: str


class Network(NamedTuple):
    """One row of the zoo: the lesson that builds it, the ``course_utils.zoo`` builder and
    its arguments, the input side it is built for in its lesson (its paper's; 227 for
    AlexNet, whose layer sizes need it), the smallest side the builder accepts, the
    channels of the input, the key of its Fashion-MNIST version in ``zoo.fashion``
    (``None`` if it has none) and what its paper reports."""

    lesson: str
    builder: str
    options: dict
    size: int
    min_size: int
    channels: int
    fashion: str | None
    reported: Reported


ARXIV = "https://arxiv.org/abs/"
_ALEXNET = ("Krizhevsky, Sutskever and Hinton 2012",
            "https://papers.nips.cc/paper/2012/hash/"
            "c399862d3b9d6b76c8436e924a68c45b-Abstract.html")
_VGG = ("Simonyan and Zisserman 2015", ARXIV + "1409.1556")
_RESNET = ("He, Zhang, Ren and Sun 2016", ARXIV + "1512.03385")
_MOBILENET_V3 = ("Howard et al. 2019", ARXIV + "1905.02244")
_EFFICIENTNET = ("Tan and Le 2019 (arXiv v5)", ARXIV + "1905.11946v5")
_VGG_NOTE = ("single test scale 384, trained at scales jittered in [256, 512]; "
             "top-1 error {}%")
_RESNET_NOTE = "10-crop testing; top-1 error {}%"
_EFFICIENTNET_NOTE = "one crop at the network's own resolution"
_DENSENET = ("Huang, Liu, van der Maaten and Weinberger 2017", ARXIV + "1608.06993")
_RESNEXT = ("Xie, Girshick, Dollar, Tu and He 2017", ARXIV + "1611.05431")
_EFFICIENTNET_V2 = ("Tan and Le 2021", ARXIV + "2104.00298")
_REGNET = ("Radosavovic, Kosaraju, Girshick, He and Dollar 2020",
           "https://github.com/facebookresearch/pycls/blob/main/MODEL_ZOO.md")
_CONVNEXT = ("Liu, Mao, Wu, Feichtenhofer, Darrell and Xie 2022", ARXIV + "2201.03545")

# name -> Network, in the order of the lessons. Every figure is the one its "where" names
# in the cited paper (the notes say how each was measured).
ZOO = {
    "LeNet-5": Network(
        "02", "lenet5", {}, 32, 32, 1, "LeNet-5",
        Reported(None, "LeCun, Bottou, Bengio and Haffner 1998",
                 "-", "https://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf",
                 "no ImageNet: the paper predates it and classifies MNIST digits")),
    "AlexNet": Network(
        "03", "alexnet", {}, 227, 67, 3, "AlexNet",
        Reported(59.3, _ALEXNET[0], "Table 2, '1 CNN'", _ALEXNET[1],
                 "ILSVRC-2012 validation set, ten patches averaged (section 4.1); "
                 "top-1 error 40.7%")),
    "VGG-16": Network(
        "04", "vgg16", {}, 224, 32, 3, "VGG-16",
        Reported(74.4, _VGG[0], "Table 3, configuration D", _VGG[1],
                 _VGG_NOTE.format(25.6))),
    "VGG-19": Network(
        "04", "vgg19", {}, 224, 32, 3, None,
        Reported(74.5, _VGG[0], "Table 3, configuration E", _VGG[1],
                 _VGG_NOTE.format(25.5))),
    "NiN": Network(
        "05", "nin", {}, 224, 67, 3, "NiN",
        Reported(None, "Lin, Chen and Yan 2014", "-", ARXIV + "1312.4400",
                 "no ImageNet: the paper reports CIFAR-10, CIFAR-100, SVHN and MNIST")),
    "GoogLeNet": Network(
        "06", "googlenet", {}, 224, 32, 3, "GoogLeNet",
        Reported(None, "Szegedy et al. 2015", "-", ARXIV + "1409.4842",
                 "top-5 error only (section 7, Tables 2 and 3), no top-1")),
    "Inception v3": Network(
        "06", "inception_v3", {}, 299, 75, 3, None,
        Reported(78.8, "Szegedy, Vanhoucke, Ioffe, Shlens and Wojna 2016",
                 "Table 3, last row (and the abstract)", ARXIV + "1512.00567",
                 "one crop of 299x299; top-1 error 21.2%")),
    "ResNet-18": Network(
        "08", "resnet18", {}, 224, 32, 3, None,
        Reported(72.12, _RESNET[0], "Table 2", _RESNET[1],
                 _RESNET_NOTE.format(27.88) + "; its shortcuts pad with zeros "
                 "(option A), the course's project (option B)")),
    "ResNet-34": Network(
        "08", "resnet34", {}, 224, 32, 3, None,
        Reported(75.48, _RESNET[0], "Table 3, ResNet-34 B", _RESNET[1],
                 _RESNET_NOTE.format(24.52))),
    "ResNet-50": Network(
        "08", "resnet50", {}, 224, 32, 3, None,
        Reported(77.15, _RESNET[0], "Table 3", _RESNET[1], _RESNET_NOTE.format(22.85))),
    "ResNet-101": Network(
        "08", "resnet101", {}, 224, 32, 3, None,
        Reported(78.25, _RESNET[0], "Table 3", _RESNET[1], _RESNET_NOTE.format(21.75))),
    "ResNet-152": Network(
        "08", "resnet152", {}, 224, 32, 3, None,
        Reported(78.57, _RESNET[0], "Table 3", _RESNET[1], _RESNET_NOTE.format(21.43))),
    "ResNet-50 v2": Network(
        "08", "resnet50_v2", {}, 224, 32, 3, None,
        Reported(None, "He, Zhang, Ren and Sun 2016 (identity mappings)", "-",
                 ARXIV + "1603.05027",
                 "its ImageNet results (Table 5) are for ResNet-152 and ResNet-200")),
    "ResNet-50-D": Network(
        "08", "resnet_d", {"depth": 50}, 224, 32, 3, None,
        Reported(77.16, "He, Zhang, Zhang, Zhang, Xie and Li 2019", "Table 5",
                 ARXIV + "1812.01187", "their baseline training recipe (section 2)")),
    "MobileNet": Network(
        "10", "mobilenet", {}, 224, 32, 3, None,
        Reported(70.6, "Howard et al. 2017", "Table 8, 1.0 MobileNet-224",
                 ARXIV + "1704.04861", "224x224 input")),
    "MobileNetV2": Network(
        "10", "mobilenet_v2", {}, 224, 32, 3, None,
        Reported(72.0, "Sandler, Howard, Zhu, Zhmoginov and Chen 2018", "Table 4",
                 ARXIV + "1801.04381", "224x224 input; the first arXiv version "
                 "printed 71.7%")),
    "MobileNetV3-Small": Network(
        "10", "mobilenet_v3_small", {}, 224, 32, 3, None,
        Reported(67.4, _MOBILENET_V3[0], "Table 3, Small 1.0", _MOBILENET_V3[1],
                 "224x224 input, floating point")),
    "MobileNetV3-Large": Network(
        "10", "mobilenet_v3_large", {}, 224, 32, 3, None,
        Reported(75.2, _MOBILENET_V3[0], "Table 3, Large 1.0", _MOBILENET_V3[1],
                 "224x224 input, floating point")),
    "SqueezeNet 1.0": Network(
        "11", "squeezenet", {"version": "1.0"}, 224, 32, 3, "SqueezeNet",
        Reported(57.5, "Iandola et al. 2016", "Table 2", ARXIV + "1602.07360",
                 "the uncompressed SqueezeNet")),
    "SqueezeNet 1.1": Network(
        "11", "squeezenet", {"version": "1.1"}, 224, 32, 3, None,
        Reported(None, "Iandola et al. 2016", "-", ARXIV + "1602.07360",
                 "version 1.1 came later in the authors' code repository, not in the "
                 "paper")),
    **{f"EfficientNet-B{n}": Network(
        "12", f"efficientnet_b{n}", {}, KERAS_COEFFICIENTS[f"b{n}"].resolution, 32, 3, None,
        Reported(top1, _EFFICIENTNET[0], "Table 2", _EFFICIENTNET[1], _EFFICIENTNET_NOTE))
       for n, top1 in enumerate([77.1, 79.1, 80.1, 81.6, 82.9, 83.6, 84.0, 84.3])},
    **{f"DenseNet-{depth}": Network(
        "18", f"densenet{depth}", {}, 224, 32, 3, None,
        Reported(round(100 - error, 2), _DENSENET[0], "Table 3", _DENSENET[1],
                 f"one 224x224 crop; top-1 error {error:.2f}% ({ten_crops:.2f}% with 10 "
                 f"crops)"))
       for depth, error, ten_crops in [(121, 25.02, 23.61), (169, 23.80, 22.08),
                                       (201, 22.58, 21.46)]},
    "ResNeXt-50 32x4d": Network(
        "19", "resnext50_32x4d", {}, 224, 32, 3, None,
        Reported(77.8, _RESNEXT[0], "Table 3", _RESNEXT[1],
                 "one 224x224 crop; top-1 error 22.2% (ResNet-50's 23.9% in the same table)")),
    "ResNeXt-101 32x8d": Network(
        "19", "resnext101_32x8d", {}, 224, 32, 3, None,
        Reported(None, _RESNEXT[0], "-", _RESNEXT[1],
                 "the paper reports no 32x8d model: its ResNeXt-101 results are for 32x4d "
                 "and 64x4d (Tables 3 to 5); the course builds 32x8d because torchvision "
                 "has it")),
    "Xception": Network(
        "19", "xception", {}, 299, 71, 3, None,
        Reported(79.0, "Chollet 2017", "Table 1", ARXIV + "1610.02357",
                 "one 299x299 crop, single model")),
    "Inception-ResNet v2": Network(
        "19", "inception_resnet_v2", {}, 299, 75, 3, None,
        Reported(None, "Szegedy, Ioffe, Vanhoucke and Alemi 2017", "-", ARXIV + "1602.07261",
                 "its single-crop results (Table 2) are measured on the validation images "
                 "outside the ILSVRC blacklist, not on all 50,000 as the others; the course "
                 "could not check the figure in a text copy of the paper, so it leaves it "
                 "out")),
    "EfficientNetV2-B0": Network(
        "20", "efficientnet_v2_b0", {}, 224, 32, 3, None,
        Reported(None, _EFFICIENTNET_V2[0], "-", _EFFICIENTNET_V2[1],
                 "the paper's tables report S, M and L (and XL): B0 to B3, scaled like "
                 "EfficientNet's B0 to B3, came with the authors' code, not the paper")),
    **{f"EfficientNetV2-{key.upper()}": Network(
        "20", f"efficientnet_v2_{key}", {}, size, 32, 3, None,
        Reported(top1, _EFFICIENTNET_V2[0], "Table 7", _EFFICIENTNET_V2[1],
                 f"trained on ImageNet-1K only, with progressive learning; one {size}x{size} "
                 f"crop{extra}"))
       for key, size, top1, extra in [
           ("s", 384, 83.9, ""), ("m", 480, 85.1, " (the authors' repository lists 85.2% for "
                                                  "the checkpoint it released)"),
           ("l", 480, 85.7, "")]},
    **{paper_name(key): Network(
        "20", f"regnet{key[0]}_{key[1:]}", {}, 224, 32, 3, None,
        Reported(round(100 - error, 1), _REGNET[0], "pycls MODEL_ZOO.md", _REGNET[1],
                 f"the paper's models as its authors released them (pycls): 100 epochs, one "
                 f"224x224 centre crop, the mean of 5 runs; top-1 error {error}%"))
       for key, error in [("x004", 27.3), ("x016", 23.0), ("x080", 20.7), ("y004", 25.9),
                          ("y016", 22.0), ("y080", 20.1), ("y160", 19.6)]},
    **{f"ConvNeXt-{letter}": Network(
        "20", f"convnext_{key}", {}, 224, 32, 3, None,
        Reported(top1, _CONVNEXT[0], "Table 1" if top1 else "-", _CONVNEXT[1],
                 "trained on ImageNet-1K only; one 224x224 crop" if top1 else
                 "reported only after pre-training on ImageNet-22K (Table 1: 87.0% at "
                 "224x224), so not comparable with the ImageNet-1K rows"))
       for key, letter, top1 in [("tiny", "T", 82.1), ("small", "S", 83.1),
                                 ("base", "B", 83.8), ("large", "L", 84.3),
                                 ("xlarge", "XL", None)]},
}

_COUNTS: dict[str, tuple[int, int, int]] = {}  # name -> (parameters, trainable, MACs)


def network(name: str) -> Network:
    """The entry of :data:`ZOO` called ``name``, with an error that lists the names."""
    if name not in ZOO:
        raise KeyError(f"glance: no network called {name!r} in the zoo at a glance. "
                       f"Expected one of: {', '.join(ZOO)}. Hint: names are spelled as in "
                       f"the papers, e.g. 'ResNet-50' or 'EfficientNet-B0'.")
    return ZOO[name]


def select(*, lessons=None, until: str | None = None) -> list[str]:
    """Names of :data:`ZOO` in its order: those built in ``lessons`` and up to lesson
    ``until`` (either may be left out; with neither, every name)::

        glance.select(until="12")        # what lesson 12 has seen
        glance.select(lessons=["20"])    # RegNet, ConvNeXt, EfficientNetV2

    Args:
        lessons: lesson numbers as two-digit strings, e.g. ``["18", "19"]``.
        until: a lesson number; only networks of that lesson or an earlier one.

    Raises:
        ValueError: a lesson that is not a two-digit string.
    """
    if isinstance(lessons, str):
        raise ValueError(f"glance.select: lessons must be a list of lessons; got the string "
                         f"{lessons!r}. Hint: lessons=[{lessons!r}].")
    for lesson in list(lessons or []) + ([until] if until is not None else []):
        if not (isinstance(lesson, str) and len(lesson) == 2 and lesson.isdigit()):
            raise ValueError(f"glance.select: lessons are two-digit strings, as in ZOO's "
                             f"'lesson' field; got {lesson!r}. Hint: until='12', "
                             f"lessons=['18', '19'].")
    return [name for name, entry in ZOO.items()
            if (lessons is None or entry.lesson in lessons)
            and (until is None or entry.lesson <= until)]


def _names(names) -> list[str]:
    names = list(ZOO) if names is None else list(names)
    for name in names:
        network(name)
    return names


def _side(name: str, side: int | None) -> int:
    """The side ``name`` runs at when asked for ``side``: its own by default, never more
    than its own, never less than what the builder accepts."""
    entry = network(name)
    if side is None:
        return entry.size
    if not isinstance(side, int) or isinstance(side, bool) or side < 1:
        raise ValueError(f"glance: side must be a positive whole number of pixels or None "
                         f"(each network's own size); got {side!r}. Hint: side=64 for a quick run.")
    return max(entry.min_size, min(side, entry.size))


def build(name: str, *, side: int | None = None):
    """The course's ``name`` (a key of :data:`ZOO`) for images of ``side`` x ``side``
    (default: its own size, ``ZOO[name].size``; clipped to what the builder accepts). Build it inside
    ``inspection.structure_only()`` when only counting."""
    from course_utils import zoo

    entry = network(name)
    size = _side(name, side)
    return getattr(zoo, entry.builder)(input_shape=(size, size, entry.channels),
                                       **entry.options)


def costs(names=None) -> pd.DataFrame:
    """Parameters (``count_params``) and MACs per image at each network's own size,
    counted by ``layer_table`` on models built in ``structure_only()`` (no weight is
    drawn); each network is counted once per process.

    Returns:
        A DataFrame indexed by name: ``lesson``, ``input`` (e.g. ``"224x224x3"``),
        ``parameters``, ``trainable parameters`` (without batch norm's moving means and
        variances: what PyTorch, and so many papers, count), ``MACs`` and ``GMACs``.
    """
    from course_utils.inspection import layer_table, structure_only
    from course_utils.transfer import count_weights

    names = _names(names)
    missing = [name for name in names if name not in _COUNTS]
    if missing:
        with structure_only():  # one session for all: clearing it costs a garbage collection
            for name in missing:
                model = build(name)
                _COUNTS[name] = (int(model.count_params()), count_weights(model)["trainable"],
                                 int(layer_table(model).attrs["totals"]["macs"]))
                del model
    rows = {}
    for name in names:
        entry, (params, trainable, macs) = ZOO[name], _COUNTS[name]
        rows[name] = {"lesson": entry.lesson,
                      "input": f"{entry.size}x{entry.size}x{entry.channels}",
                      "parameters": params, "trainable parameters": trainable, "MACs": macs,
                      "GMACs": macs / 1e9}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("network")


def latencies(names=None, *, side: int | None = None, repeats: int = 20, warmup: int = 3,
              max_parameters: int | None = None) -> pd.DataFrame:
    """CPU latency at batch 1 of every network in ``names``, each timed the same way by
    :func:`course_utils.speed.cpu_latency` (the same repeats, warm-up and threads) on
    random images of its own size, or of ``side`` (clipped as in :func:`build`).

    Args:
        names: keys of :data:`ZOO` (default: all).
        side: the image side to time at; ``None`` for each network's own.
        repeats: timed calls per network.
        warmup: untimed calls first.
        max_parameters: networks with more parameters are not built nor timed (their row
            is NaN); ``None`` times every one.

    Returns:
        A DataFrame indexed by name: ``latency (ms)`` (the median), ``spread (ms)`` (the
        interquartile range) and ``timed at`` (e.g. ``"224x224"``, or ``"not timed"``).
    """
    import keras

    from course_utils.profiles import clear_session
    from course_utils.speed import cpu_latency

    rows = {}
    for name in _names(names):
        if max_parameters is not None and costs([name])["parameters"].iloc[0] > max_parameters:
            rows[name] = {"latency (ms)": math.nan, "spread (ms)": math.nan,
                          "timed at": "not timed"}
            continue
        clear_session()
        with keras.StatelessScope():  # every weight drawn at once when built: faster
            model = build(name, side=side)
        timing = cpu_latency(model, batch_size=1, repeats=repeats, warmup=warmup)
        size = model.input_shape[1]
        rows[name] = {"latency (ms)": timing.median_ms, "spread (ms)": timing.spread_ms,
                      "timed at": f"{size}x{size}"}
        del model
    clear_session()
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("network")


def citations(names=None) -> pd.DataFrame:
    """Where each reported top-1 comes from: paper, table or section, how it was measured
    (or why there is none) and a link, indexed by name."""
    rows = {name: {"ImageNet top-1 (%)": ZOO[name].reported.top1,
                   "paper": ZOO[name].reported.paper, "where": ZOO[name].reported.where,
                   "note": ZOO[name].reported.note, "link": ZOO[name].reported.link}
            for name in _names(names)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("network")


def fashion_networks() -> list[str]:
    """The names in :data:`ZOO` whose cut-down Fashion-MNIST version
    ``zoo.fashion_mnist_version`` builds."""
    from course_utils.zoo.fashion import VERSIONS

    return [name for name, entry in ZOO.items() if entry.fashion in VERSIONS]


def table(names=None, *, latency: pd.DataFrame | None = None,
          fashion: dict | pd.Series | None = None) -> pd.DataFrame:
    """The zoo in one table: :func:`costs`, the reported top-1 and its source, and where
    given the :func:`latencies` and a Fashion-MNIST accuracy per network (NaN where a
    network has none).

    Args:
        names: keys of :data:`ZOO` (default: all), in the order of the rows.
        latency: what :func:`latencies` returned, for some or all of the rows.
        fashion: ``{name: accuracy}`` measured on Fashion-MNIST (a fraction).
    """
    names = _names(names)
    cited = citations(names)
    frame = costs(names).drop(columns=["MACs", "trainable parameters"])
    frame["ImageNet top-1 (%)"] = cited["ImageNet top-1 (%)"].astype(float)
    frame["reported in"] = [f"{r.paper}, {r.where}" if r.top1 is not None else r.paper
                            for r in (ZOO[name].reported for name in names)]
    if latency is not None:
        unknown = sorted(set(latency.index) - set(names))
        if unknown:
            raise ValueError(f"glance.table: latency has rows {unknown} that are not among "
                             f"the table's networks. Hint: time the same names you tabulate.")
        frame = frame.join(latency[["latency (ms)", "spread (ms)", "timed at"]])
    if fashion is not None:
        fashion = pd.Series(fashion, dtype=float)
        unknown = sorted(set(fashion.index) - set(names))
        if unknown:
            raise ValueError(f"glance.table: fashion has networks {unknown} that are not "
                             f"among the table's. Hint: use the names of glance.ZOO, e.g. "
                             f"from glance.fashion_networks().")
        frame["Fashion-MNIST accuracy"] = fashion.reindex(frame.index)
    return frame


def pareto_front(cost, value) -> np.ndarray:
    """Which points are on the Pareto front: no other point costs as little or less *and*
    scores as high or higher, and strictly better in one of the two. Points with a
    missing cost or value are never on it.

    Args:
        cost: one cost per point (lower is better): MACs, latency, parameters.
        value: one score per point (higher is better): an accuracy.

    Returns:
        A boolean array, True for the points on the front.
    """
    cost = np.asarray(cost, dtype=float)
    value = np.asarray(value, dtype=float)
    if cost.shape != value.shape or cost.ndim != 1:
        raise ValueError(f"pareto_front: expected one cost and one value per point (two 1-D "
                         f"sequences of the same length); got shapes {cost.shape} and "
                         f"{value.shape}. Hint: pass two columns of the same table.")
    known = ~(np.isnan(cost) | np.isnan(value))
    front = np.zeros(cost.shape, dtype=bool)
    for i in np.flatnonzero(known):
        others = known.copy()
        others[i] = False
        dominated = (others & (cost <= cost[i]) & (value >= value[i])
                     & ((cost < cost[i]) | (value > value[i])))
        front[i] = not dominated.any()
    return front
