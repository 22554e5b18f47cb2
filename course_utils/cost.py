"""How much work is a training run? FLOPs, days on a GPU, and what changes them.

The reference point: "finishing 90-epoch ImageNet-1k training with ResNet-50 on a NVIDIA
M40 GPU takes 14 days. This training requires 10^18 single precision operations in total"
(You, Zhang, Hsieh, Demmel and Keutzer, "ImageNet Training in Minutes", ICPP 2018,
arXiv:1709.05011). We rebuild that estimate from the network itself:

    ``training FLOPs = 2 * forward MACs * (1 + backward_factor) * images * epochs``

- one multiply-accumulate (MAC) is two floating-point operations (a multiply and an add);
- ``forward MACs`` is one image's forward pass, counted layer by layer by
  ``course_utils.inspection.layer_table`` (convolutions and dense layers dominate);
- the backward pass costs about twice the forward pass (one product for the gradient
  with respect to the layer's input, one for the gradient with respect to its weights),
  so a training step is about three forward passes: ``backward_factor = 2``;
- every image is seen once per epoch.

Dividing by what a device can do gives a time: ``days = FLOPs / (peak FLOP/s *
utilisation) / 86,400``. No real training run reaches a GPU's peak (data loading, memory
traffic, small layers, the optimizer's own work); the *utilisation* says how close it
gets, and ``implied_utilisation`` reads it back from a reported training time.

The estimate also says what makes training cheaper: the work is proportional to the number
of images and epochs, roughly proportional to the number of pixels (halve the side, about a
quarter of the work), and grayscale input changes only the first convolution (a third of
its MACs, a small share of the whole network).

Many devices divide the time, not the work. With data parallelism (synchronous SGD, each
device a slice of every batch) ``n`` devices run ``n * scaling_efficiency`` times faster than
one, where the efficiency (< 1: the gradients are exchanged after every step) is what a real
system reaches: Goyal et al. ("Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
2017, arXiv:1706.02677) report ~90% from 8 to 256 GPUs. ``scaling_table`` gives ResNet-50's
90 epochs on 1, 8 and 256 devices at a per-device throughput in images/s, and
``REPORTED_RUNS`` the published times it can be checked against.
"""

from __future__ import annotations

import functools
import math
import numbers

FLOPS_PER_MAC = 2
SECONDS_PER_DAY = 86_400
IMAGENET_1K_TRAIN_IMAGES = 1_281_167  # ILSVRC-2012 training set
# 90 epochs: the schedule of the 14-day M40 figure above (You et al. 2018; also Goyal et
# al. 2017). He et al. (2016, section 3.4) trained for up to 600k iterations at batch 256,
# which is ~120 epochs; we use 90 so that the estimate and the 14 days describe the same run.
RESNET50_EPOCHS = 90

# Peak single-precision (FP32) throughput, in FLOP/s, from each vendor's own figures
# (not tensor-core, FP16 or TF32 numbers).
DEVICES = {
    # NVIDIA Tesla M40 datasheet (2015): "7 teraflops single-precision" (3072 cores, 1.11 GHz).
    "Tesla M40": 7.0e12,
    # NVIDIA GeForce GTX 1080 Ti specifications (2017): 3584 CUDA cores at 1582 MHz boost
    # = 11.3 TFLOPS.
    "GeForce GTX 1080 Ti": 11.3e12,
    # NVIDIA Tesla T4 datasheet (2018): 8.1 TFLOPS single precision.
    "Tesla T4": 8.1e12,
    # NVIDIA Tesla V100 datasheet (2017): 15.7 TFLOPS single precision (SXM2; PCIe: 14).
    "Tesla V100": 15.7e12,
    # NVIDIA A100 datasheet (2020): 19.5 TFLOPS FP32 (TF32 tensor cores: 156).
    "A100": 19.5e12,
    # NVIDIA H100 datasheet (2022): 67 TFLOPS FP32 (SXM; PCIe: 51).
    "H100": 67.0e12,
}


# --------------------------------------------------------------------------- checks


def _number(name, value, allow_zero=False):
    """``value`` as a float after checking it is a finite positive (or >= 0) number."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):  # NumPy's too
        raise ValueError(f"{name} must be a number; got {type(value).__name__} {value!r}.")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "more than zero"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}.")
    return value


def _count(name, value):
    """``value`` as an int after checking it is a positive whole number."""
    number = _number(name, value)
    if number != int(number):
        raise ValueError(f"{name} must be a whole number; got {value!r}.")
    return int(number)


def _utilisation(value):
    value = _number("utilisation", value)
    if value > 1:
        raise ValueError(
            f"utilisation is the fraction of the device's peak that training reaches, so it "
            f"lies in (0, 1]; got {value!r}. Hint: 30% is 0.3."
        )
    return value


def device_flops(device) -> float:
    """Peak FP32 FLOP/s of ``device``: a name in ``DEVICES`` (any case) or a number."""
    if isinstance(device, str):
        for name, flops in DEVICES.items():
            if name.lower() == device.strip().lower():
                return flops
        raise ValueError(
            f"Unknown device {device!r}. Known: {', '.join(DEVICES)}. Hint: or pass its "
            f"peak FP32 FLOP/s as a number, e.g. 7e12."
        )
    return _number("device_flops_per_s", device)


# --------------------------------------------------------------------------- the formula


def training_flops(forward_macs, images, epochs, backward_factor=2.0) -> float:
    """Floating-point operations of a training run:
    ``2 * forward_macs * (1 + backward_factor) * images * epochs``.

    ``forward_macs`` is one image's forward pass (``model_forward_macs``); the backward
    pass costs ``backward_factor`` forward passes (about 2); ``epochs`` may be fractional.
    """
    forward_macs = _number("forward_macs", forward_macs)
    images = _count("images", images)
    epochs = _number("epochs", epochs)
    backward_factor = _number("backward_factor", backward_factor, allow_zero=True)
    return FLOPS_PER_MAC * forward_macs * (1 + backward_factor) * images * epochs


def model_forward_macs(model) -> int:
    """MACs of one forward pass of ``model`` for one input: the total of
    ``layer_table(model)`` (what it counts is in ``course_utils.inspection``)."""
    from course_utils.inspection import layer_table

    table = layer_table(model)
    total = table.attrs["totals"]["macs"]
    if total is None:
        unknown = table[table["macs"].isna() & (table["layer"] != "total")]["layer"].tolist()
        raise ValueError(
            f"The MACs of {model.name!r} depend on the input size, which is not fixed: "
            f"unknown for {', '.join(unknown[:3])}{' ...' if len(unknown) > 3 else ''}. "
            f"Hint: build the model with a fixed input_shape, e.g. (224, 224, 3)."
        )
    return int(total)


def training_days(flops, device_flops_per_s, utilisation=1.0) -> float:
    """Days that ``flops`` take on a device doing ``device_flops_per_s`` at peak (a number,
    or a name in ``DEVICES``) when training reaches ``utilisation`` of that peak (1.0, the
    default, is the unreachable best case: a lower bound on the time)."""
    flops = _number("flops", flops)
    achieved = device_flops(device_flops_per_s) * _utilisation(utilisation)
    return flops / achieved / SECONDS_PER_DAY


def implied_utilisation(flops, days, device_flops_per_s) -> float:
    """The fraction of the device's peak a run must have reached to do ``flops`` in
    ``days``: ``flops / (days * 86,400 * peak)``. More than 1 means the FLOP count or the
    reported time is wrong."""
    flops = _number("flops", flops)
    days = _number("days", days)
    return flops / (days * SECONDS_PER_DAY * device_flops(device_flops_per_s))


# --------------------------------------------------------------------------- scenarios


@functools.cache
def _resnet50_macs(input_shape, classes):
    from course_utils import zoo
    from course_utils.inspection import structure_only

    with structure_only():  # a count: no weights drawn
        return model_forward_macs(zoo.resnet50(input_shape=input_shape, include_top=True,
                                               classes=classes))


def resnet50_forward_macs(input_shape=(224, 224, 3), classes=1000) -> int:
    """Forward MACs of ResNet-50 (``course_utils.zoo.resnet50``, which is
    ``keras.applications.ResNet50``) for one image of ``input_shape``. The model is built
    once per shape and forgotten; the count is remembered."""
    shape = tuple(int(v) for v in input_shape)
    return _resnet50_macs(shape, _count("classes", classes))


SCENARIO_KEYS = ("forward_macs", "images", "epochs")


def resnet50_scenarios(images=IMAGENET_1K_TRAIN_IMAGES, epochs=RESNET50_EPOCHS,
                       dataset_factor=10_000, few_epochs=30) -> dict:
    """The 14-day ResNet-50 run and what each change to it saves, for
    ``training_cost_table``: ``{label: {"forward_macs", "images", "epochs"}}``.

    First the reference (224x224x3, ImageNet-1k's training set, 90 epochs), then one change
    at a time: grayscale input (only ``conv1`` changes), 112x112 images, a dataset
    ``dataset_factor`` times smaller, ``few_epochs`` epochs; last all of them together.
    Every network keeps 1,000 classes so that only the named change differs. Builds four
    ResNet-50s without their weights (once per session).
    """
    images = _count("images", images)
    small = max(1, round(images / _count("dataset_factor", dataset_factor)))
    rgb, gray = resnet50_forward_macs((224, 224, 3)), resnet50_forward_macs((224, 224, 1))
    half, small_gray = resnet50_forward_macs((112, 112, 3)), resnet50_forward_macs((112, 112, 1))

    def row(macs, n=images, e=epochs):
        return {"forward_macs": macs, "images": n, "epochs": e}

    return {
        f"ResNet-50, 224x224x3, {images:,} images, {epochs} epochs": row(rgb),
        "grayscale input (224x224x1)": row(gray),
        "112x112 images": row(half),
        f"{dataset_factor:,}x fewer images ({small:,} images)": row(rgb, n=small),
        f"{few_epochs} epochs": row(rgb, e=few_epochs),
        "all four together": row(small_gray, n=small, e=few_epochs),
    }


def readable_duration(days) -> str:
    """``days`` in the unit that reads best: ``"14.0 days"``, ``"2.5 h"``, ``"38 s"``."""
    seconds = _number("days", days, allow_zero=True) * SECONDS_PER_DAY
    for unit, size in (("days", SECONDS_PER_DAY), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.2g} s"


def _scenario(label, values):
    if not isinstance(values, dict):
        raise ValueError(
            f"Scenario {label!r} must be a dict with keys {', '.join(SCENARIO_KEYS)}; got "
            f"{type(values).__name__}."
        )
    missing = [k for k in SCENARIO_KEYS if k not in values]
    unknown = sorted(set(values) - set(SCENARIO_KEYS) - {"backward_factor"})
    if missing or unknown:
        raise ValueError(
            f"Scenario {label!r} needs the keys {', '.join(SCENARIO_KEYS)} (and optionally "
            f"backward_factor); missing: {missing or 'none'}, unknown: {unknown or 'none'}."
        )
    return values


def training_cost_table(scenarios, device_flops_per_s="Tesla M40", utilisation=1.0):
    """One row per scenario: ``forward_macs``, ``images``, ``epochs``, training ``flops``,
    ``days`` on the device at ``utilisation`` of its peak, ``less_work``: how many times
    fewer FLOPs than the first scenario, and ``time``: the days in words (``"3.7 days"``,
    ``"12 s"``). Indexed by the scenario labels.

    ``scenarios`` is ``{label: {"forward_macs": ..., "images": ..., "epochs": ...}}`` (an
    optional ``"backward_factor"`` too), e.g. ``resnet50_scenarios()``. The device and
    utilisation are kept in ``table.attrs``. To see days as a real run would take them,
    pass the utilisation a reported time implies (``implied_utilisation``).
    """
    import pandas as pd

    if not isinstance(scenarios, dict) or not scenarios:
        raise ValueError(
            "scenarios must be a non-empty dict {label: {forward_macs, images, epochs}}. "
            "Hint: start from resnet50_scenarios()."
        )
    peak, utilisation = device_flops(device_flops_per_s), _utilisation(utilisation)
    rows = []
    for label, values in scenarios.items():
        values = _scenario(label, values)
        flops = training_flops(**values)
        rows.append({"scenario": label, "forward_macs": int(values["forward_macs"]),
                     "images": int(values["images"]), "epochs": values["epochs"],
                     "flops": flops, "days": training_days(flops, peak, utilisation)})
    table = pd.DataFrame(rows).set_index("scenario")
    table["less_work"] = table["flops"].iloc[0] / table["flops"]
    table["time"] = [readable_duration(d) for d in table["days"]]
    table.attrs.update(device=device_flops_per_s, device_flops_per_s=peak,
                       utilisation=utilisation)
    return table


# --------------------------------------------------------------------------- many devices

# The same training (ResNet-50, ImageNet-1k, 90 epochs) as reported on one device and on
# many, for ``images_per_second`` and ``implied_scaling_efficiency``:
REPORTED_RUNS = {
    # You et al. 2018, abstract: "90-epoch ImageNet-1k training with ResNet-50 on a NVIDIA
    # M40 GPU takes 14 days".
    "1 Tesla M40 (You et al. 2018)": {"devices": 1, "seconds": 14 * SECONDS_PER_DAY},
    # Goyal et al. 2017's baseline, minibatch 256 on one server of 8 Tesla P100 GPUs: 29 hours
    # (NVIDIA's note on the paper, https://developer.nvidia.com/facebook-trains-imagenet-1-hour:
    # "from 29 hours to one").
    "8 Tesla P100, batch 256 (Goyal et al. 2017)": {"devices": 8, "seconds": 29 * 3600},
    # Goyal et al. 2017, abstract: "trains ResNet-50 with a minibatch size of 8192 on 256 GPUs
    # in one hour".
    "256 Tesla P100, batch 8,192 (Goyal et al. 2017)": {"devices": 256, "seconds": 3600},
    # You et al. 2018, abstract: "we finish the 90-epoch ImageNet training with ResNet-50 in
    # 20 minutes on 2048 KNLs" (Intel Xeon Phi 7250), with LARS and a batch of 32K.
    "2,048 Xeon Phi 7250, batch 32K (You et al. 2018)": {"devices": 2048, "seconds": 20 * 60},
}
# Goyal et al. 2017, abstract: "our implementation achieves ~90% scaling efficiency when
# moving from 8 to 256 GPUs".
GOYAL_SCALING_EFFICIENCY = 0.9
MANY_DEVICES = (1, 8, 256)


def _efficiency(value):
    from course_utils.arguments import require

    value = _number("scaling_efficiency", value)
    require(value <= 1, "scaling_efficiency", "scaling_efficiency",
            "the fraction of a linear speed-up that the devices reach, in (0, 1]", value,
            "Goyal et al. 2017 reached ~90% from 8 to 256 GPUs: pass 0.9.")
    return value


def speedup(devices, scaling_efficiency=GOYAL_SCALING_EFFICIENCY) -> float:
    """How many times faster ``devices`` train than one: ``devices * scaling_efficiency``
    (one device: 1, whatever the efficiency, since it is measured against one device).

    Args:
        devices: accelerators training together (data parallelism, synchronous SGD).
        scaling_efficiency: the fraction of a linear speed-up they reach, in (0, 1];
            Goyal et al. 2017 (abstract) report ~90% from 8 to 256 GPUs.
    """
    devices, efficiency = _count("devices", devices), _efficiency(scaling_efficiency)
    return 1.0 if devices == 1 else devices * efficiency


def multi_device_days(flops, device_flops_per_s, devices, *,
                      scaling_efficiency=GOYAL_SCALING_EFFICIENCY, utilisation=1.0) -> float:
    """Days that ``flops`` take on ``devices`` accelerators: ``training_days`` on one,
    divided by ``speedup(devices, scaling_efficiency)``.

    Args:
        flops: the run's floating-point operations (``training_flops``).
        device_flops_per_s: one device's peak, a number or a name in ``DEVICES``.
        devices: how many devices share the work.
        scaling_efficiency: see ``speedup``.
        utilisation: the fraction of its peak each device reaches (``training_days``).
    """
    days = training_days(flops, device_flops_per_s, utilisation)
    return days / speedup(devices, scaling_efficiency)


def images_per_second(seconds, *, devices=1, images=IMAGENET_1K_TRAIN_IMAGES,
                      epochs=RESNET50_EPOCHS) -> float:
    """Images per second *per device* that a reported run implies: ``images * epochs /
    seconds / devices`` (e.g. ``REPORTED_RUNS``; the 14 days on one M40 of You et al. 2018
    mean about 95 images/s)."""
    seconds, devices = _number("seconds", seconds), _count("devices", devices)
    return _count("images", images) * _number("epochs", epochs) / seconds / devices


def implied_scaling_efficiency(few, many) -> float:
    """The scaling efficiency between two runs of the same training, each
    ``{"devices": n, "seconds": s}`` (``REPORTED_RUNS``): the speed-up measured, divided by
    the ratio of devices. Goyal et al.'s 8 and 256 GPUs give about their stated ~90%."""
    runs = []
    for name, run in (("few", few), ("many", many)):
        if not isinstance(run, dict) or set(run) != {"devices", "seconds"}:
            raise ValueError(f"{name} must be a dict with the keys devices and seconds; got "
                             f"{run!r}. Hint: cost.REPORTED_RUNS holds such runs.")
        runs.append((_count(f"{name}['devices']", run["devices"]),
                     _number(f"{name}['seconds']", run["seconds"])))
    (n_few, s_few), (n_many, s_many) = runs
    return (s_few / s_many) / (n_many / n_few)


def scaling_table(images_per_second_per_device, *, devices=MANY_DEVICES,
                  scaling_efficiency=GOYAL_SCALING_EFFICIENCY,
                  images=IMAGENET_1K_TRAIN_IMAGES, epochs=RESNET50_EPOCHS):
    """How long ``epochs`` over ``images`` take on each number of ``devices``: one row per
    count with its ``speedup``, the ``images_per_second`` of all of them together, ``days``
    and ``time`` in words. The defaults are ResNet-50's 90 epochs of ImageNet-1k on 1, 8
    and 256 devices at Goyal et al. 2017's ~90% scaling efficiency.

    Args:
        images_per_second_per_device: one device's training throughput (measured, or what
            a reported run implies: ``images_per_second``).
        devices: the device counts, one row each.
        scaling_efficiency: see ``speedup``.
        images: training images per epoch.
        epochs: passes over them.
    """
    import pandas as pd

    each = _number("images_per_second_per_device", images_per_second_per_device)
    work = _count("images", images) * _number("epochs", epochs)
    if isinstance(devices, (str, bytes)) or not hasattr(devices, "__iter__") or not devices:
        raise ValueError(f"devices must be a non-empty list of device counts; got "
                         f"{devices!r}. Hint: devices=(1, 8, 256).")
    rows = []
    for n in devices:
        total = each * speedup(n, scaling_efficiency)
        days = work / total / SECONDS_PER_DAY
        rows.append({"devices": int(n), "speedup": total / each, "images_per_second": total,
                     "days": days, "time": readable_duration(days)})
    table = pd.DataFrame(rows).set_index("devices")
    table.attrs.update(images_per_second_per_device=each, scaling_efficiency=scaling_efficiency,
                       images=images, epochs=epochs)
    return table
