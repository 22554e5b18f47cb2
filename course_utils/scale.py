"""Training at scale, measured on the machine at hand: mixed precision, XLA and data
parallelism.

- **Mixed precision** (Micikevicius et al., "Mixed Precision Training", ICLR 2018,
  arXiv:1710.03740): layers compute in float16 (GPUs) or bfloat16 (CPUs, TPUs) and keep
  their variables in float32. ``float_ranges`` sets the formats side by side, and
  ``dtype_table`` says what each layer of a network computes in and stores.
- **XLA** (``compile(jit_compile=True)``) compiles the whole training step into fused
  kernels. ``throughputs`` measures images/s of a training step for several dtype policies
  and ``jit_compile`` settings, timed in turn: the median of repeated blocks and their spread.
- **Data parallelism**: every device holds the whole network and a slice of each batch, and
  the gradients are averaged over the devices (all-reduced) before every update.
  ``mirrored_demo`` runs ``tf.distribute.MirroredStrategy`` over logical CPU devices and
  ``data_parallel_demo`` Keras 3's ``keras.distribution.DataParallel`` on JAX, each against
  one device on the same data.
- **Gradients on every backend**: ``gradients`` (``tf.GradientTape``, ``jax.grad`` or
  ``torch.autograd``) and ``apply_gradients`` (an optimizer step outside ``fit``) let the
  loss-scaling demonstrations run on TensorFlow, JAX and PyTorch alike; ``mirrored_demo``
  alone needs TensorFlow and says so elsewhere.
- **Large batches**: many devices mean a large global batch. ``linear_scaled_rate`` and
  ``goyal_rate`` write Goyal et al.'s rule ("Accurate, Large Minibatch SGD: Training
  ImageNet in 1 Hour", 2017, arXiv:1706.02677): the learning rate grows with the batch,
  after a gradual warm-up.

A dtype policy, logical devices and the backend are fixed per process (logical devices must
be configured before TensorFlow initialises, the backend before Keras is imported), so the
measurements and demonstrations run in a fresh Python process: ``in_subprocess("task",
**options)`` starts ``python -m course_utils.scale task`` and returns what it found, and the
notebook's own process is left as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from course_utils.arguments import require

MARKER = "course_utils.scale result: "
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


# --------------------------------------------------------------------------- the network


def timing_cnn(*, input_shape=(28, 28, 1), classes=10, width=32):
    """The small network whose training step is measured: two 3x3 convolutions with max
    pooling (``width`` and ``2 * width`` filters), a dense layer of ``4 * width`` units and
    a softmax kept in float32, as the Keras mixed-precision guide advises for the last layer
    (a float16 softmax can round small probabilities to zero and lose the loss).

    Args:
        input_shape: one image, ``(height, width, channels)``.
        classes: outputs of the classifier.
        width: filters of the first convolution.
    """
    import keras
    from keras import layers

    require(isinstance(width, int) and width > 0, "timing_cnn", "width", "a positive integer",
            width, "width=32")
    return keras.Sequential([
        keras.Input(tuple(input_shape)),
        layers.Conv2D(width, 3, padding="same", activation="relu", name="conv1"),
        layers.MaxPooling2D(name="pool1"),
        layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv2"),
        layers.MaxPooling2D(name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(4 * width, activation="relu", name="dense"),
        layers.Dense(classes, name="logits"),
        layers.Activation("softmax", dtype="float32", name="softmax_float32"),
    ], name="timing_cnn")


def _network(name, input_shape, classes):
    if name == "timing_cnn":
        return timing_cnn(input_shape=input_shape, classes=classes)
    import keras

    base = keras.applications.ResNet50(weights=None, input_shape=tuple(input_shape),
                                       classes=classes, classifier_activation=None)
    softmax = keras.layers.Activation("softmax", dtype="float32", name="softmax_float32")
    return keras.Model(base.inputs, softmax(base.outputs[0]), name="resnet50")


NETWORKS = ("timing_cnn", "resnet50")


# --------------------------------------------------------------------------- precision


def float_ranges(dtypes=("float32", "float16", "bfloat16")):
    """What each floating-point format can hold: bits, the largest value, the smallest
    normal and subnormal ones, and ``eps`` (the gap after 1.0). bfloat16 keeps float32's
    range with fewer digits; float16 has more digits and a far smaller range.

    Args:
        dtypes: format names as Keras writes them.
    """
    import ml_dtypes  # what Keras, JAX and TensorFlow use for bfloat16
    import pandas as pd

    rows = {}
    for name in dtypes:
        info = ml_dtypes.finfo(getattr(ml_dtypes, name, None) or name)
        rows[name] = {"bits": info.bits, "exponent bits": info.nexp,
                      "mantissa bits": info.nmant, "max": float(info.max),
                      "smallest normal": float(info.smallest_normal),
                      "smallest subnormal": float(info.smallest_subnormal),
                      "eps": float(info.eps)}
    return pd.DataFrame(rows).T


def dtype_table(model):
    """One row per layer of ``model``: the dtype it computes in, the dtype its variables
    are stored in (``-`` without variables), and its output's dtype.

    Args:
        model: a built functional or sequential ``keras.Model``.
    """
    import pandas as pd

    rows = []
    for layer in model.layers:
        stored = sorted({str(v.dtype) for v in layer.weights}) or ["-"]
        rows.append({"layer": layer.name, "computes in": layer.compute_dtype,
                     "variables": ", ".join(stored), "output": str(layer.output.dtype)})
    return pd.DataFrame(rows).set_index("layer")


def gradients(loss, variables) -> list:
    """The gradient of ``loss()`` with respect to each of ``variables``, on whichever
    backend Keras runs: ``tf.GradientTape`` on TensorFlow, ``jax.grad`` on JAX (the
    variables' values passed in through a ``keras.StatelessScope``), ``torch.autograd.grad``
    on PyTorch. What a training step does before the optimizer's update, written once for
    the three.

    Args:
        loss: a function of no arguments that computes a scalar from the variables (a
            layer called on some inputs, then a loss). A variable of your own is read as
            ``v.value`` there: on JAX, some ops refuse a ``keras.Variable`` itself.
        variables: ``keras.Variable`` values, trainable, e.g. ``[layer.kernel]``.

    Returns:
        one NumPy array per variable, shaped like it (zeros where the loss does not read it).
    """
    import keras

    variables = list(variables)
    require(variables and all(isinstance(v, keras.Variable) and v.trainable
                              for v in variables), "gradients", "variables",
            "a non-empty list of trainable keras.Variable", variables,
            "[layer.kernel], or keras.Variable(x) for the gradient with respect to inputs")
    require(callable(loss), "gradients", "loss", "a function of no arguments", loss,
            "lambda: keras.ops.sum(layer(x))")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss()
        found = tape.gradient(value, variables)
    elif backend == "jax":
        import jax

        def stateless(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return loss()

        found = jax.grad(stateless)([v.value for v in variables])
    elif backend == "torch":
        import torch

        found = torch.autograd.grad(loss(), [v.value for v in variables], allow_unused=True)
    else:
        raise NotImplementedError(f"gradients: the Keras backend {backend!r} is not one the "
                                  f"course knows (tensorflow, jax, torch). Hint: set "
                                  f"KERAS_BACKEND to one of them.")
    import numpy as np

    return [np.zeros(tuple(v.shape), v.dtype) if g is None else keras.ops.convert_to_numpy(g)
            for g, v in zip(found, variables)]  # zero for a variable the loss does not read


def apply_gradients(optimizer, grads, variables) -> None:
    """``optimizer.apply(grads, variables)`` outside ``fit``, on every backend: on JAX an
    optimizer whose update branches on the gradients (``LossScaleOptimizer`` skips a step
    with an inf or a NaN) cannot update its variables in place outside a compiled step, so
    there its ``stateless_apply`` computes the new values and they are assigned back.

    Args:
        optimizer: a ``keras.optimizers.Optimizer``, e.g. a ``LossScaleOptimizer``.
        grads: one gradient per variable (arrays or tensors).
        variables: the ``keras.Variable`` values they update.
    """
    import keras

    grads, variables = list(grads), list(variables)
    require(len(grads) == len(variables) and variables, "apply_gradients",
            "grads, variables", "one gradient per variable, at least one",
            (len(grads), len(variables)), "apply_gradients(optimizer, [g], [layer.kernel])")
    if keras.backend.backend() != "jax":
        optimizer.apply(grads, variables)
        return
    if not optimizer.built:
        optimizer.build(variables)
    new_values, new_state = optimizer.stateless_apply(
        [v.value for v in optimizer.variables], grads, [v.value for v in variables])
    for variable, value in zip(variables + list(optimizer.variables),
                               list(new_values) + list(new_state)):
        variable.assign(value)


# --------------------------------------------------------------------------- large batches


def linear_scaled_rate(batch_size, *, base_rate=0.1, base_batch=256) -> float:
    """Goyal et al. 2017's linear scaling rule (section 2.1): "when the minibatch size is
    multiplied by k, multiply the learning rate by k", from ``base_rate`` at ``base_batch``
    (their ResNet-50: 0.1 for 256 images).

    Args:
        batch_size: the global batch, over all devices.
        base_rate: the learning rate that works at ``base_batch``.
        base_batch: the batch ``base_rate`` was tuned for.
    """
    for name, value in (("batch_size", batch_size), ("base_batch", base_batch)):
        require(isinstance(value, int) and value > 0, "linear_scaled_rate", name,
                "a positive integer", value, "batch_size=8192")
    require(base_rate > 0, "linear_scaled_rate", "base_rate", "more than zero", base_rate,
            "base_rate=0.1")
    return base_rate * batch_size / base_batch


def goyal_rate(epoch, *, batch_size, base_rate=0.1, base_batch=256, warmup_epochs=5,
               milestones=(30, 60, 80)) -> float:
    """The learning rate of Goyal et al. 2017's ImageNet schedule at a (fractional)
    ``epoch``: gradual warm-up from ``base_rate`` to the linearly scaled rate over
    ``warmup_epochs`` (section 2.2), then that rate divided by 10 at each milestone
    (section 5.1: 30, 60 and 80 of 90 epochs).

    Args:
        epoch: where in training, in epochs (0.5 is halfway through the first).
        batch_size: the global batch.
        base_rate: the rate at ``base_batch``.
        base_batch: the batch ``base_rate`` was tuned for.
        warmup_epochs: epochs of linear warm-up (0: none).
        milestones: epochs after which the rate is divided by 10.
    """
    require(epoch >= 0, "goyal_rate", "epoch", "zero or more", epoch, "epoch=0.5")
    peak = linear_scaled_rate(batch_size, base_rate=base_rate, base_batch=base_batch)
    if epoch < warmup_epochs:
        return base_rate + (peak - base_rate) * epoch / warmup_epochs
    return peak * 0.1 ** sum(epoch >= m for m in milestones)


# --------------------------------------------------------------------------- throughput


def _prepared(network, policy, jit_compile, batch_size, input_shape, classes, seed):
    """A compiled model built under ``policy`` (set back after), a batch of random images,
    and the seconds of its first training step (tracing and, with XLA, compiling)."""
    import keras
    import numpy as np

    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(seed)
        model = _network(network, input_shape, classes)
        model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy",
                      jit_compile=jit_compile)
    finally:
        keras.mixed_precision.set_global_policy(before)
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(batch_size, *input_shape)).astype("float32")
    y = rng.integers(0, classes, size=batch_size).astype("int32")
    start = time.perf_counter()
    model.train_on_batch(x, y)
    return model, x, y, time.perf_counter() - start


def _images_per_second(model, x, y, steps) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return len(x) * steps / (time.perf_counter() - start)


def throughputs(configs, *, network="timing_cnn", batch_size=128, input_shape=(28, 28, 1),
                classes=10, steps=5, repeats=5, seed=0) -> list:
    """Images per second of ``network``'s training step (SGD, cross-entropy, random images)
    for each ``{"policy": ..., "jit_compile": ...}`` in ``configs``, in this process.

    Every configuration is built and takes its first step (tracing and, with XLA,
    compiling; timed apart); then the configurations are timed in turn, one block of
    ``steps`` steps each, ``repeats`` rounds, so that a change in the machine's load falls on
    all of them alike. One dict per configuration: ``images_per_s`` (the median over
    blocks), ``spread`` (their IQR), ``runs`` (every block) and ``first_step_s``.

    Args:
        configs: ``[{"policy": "float32", "jit_compile": False}, ...]``; the policy is a
            Keras dtype policy: ``"float32"``, ``"mixed_float16"`` (GPUs) or
            ``"mixed_bfloat16"`` (CPUs, TPUs), and ``jit_compile`` compiles the step with XLA.
        network: ``"timing_cnn"`` or ``"resnet50"`` (``keras.applications.ResNet50``,
            random weights, its softmax in float32 like ``timing_cnn``'s).
        batch_size: images per step.
        input_shape: one image, ``(height, width, channels)``.
        classes: outputs of the classifier.
        steps: steps per timed block.
        repeats: timed blocks per configuration, at least 3 for a median and a spread.
        seed: for the weights and the images.
    """
    import numpy as np

    who = "throughputs"
    require(network in NETWORKS, who, "network", f"one of {NETWORKS}", network,
            "network='timing_cnn'")
    require(repeats >= 3 and steps >= 1 and batch_size >= 1, who, "repeats, steps, batch_size",
            "at least 3, 1 and 1", (repeats, steps, batch_size),
            "a median and a spread need several timed blocks: repeats=5")
    require(isinstance(configs, (list, tuple)) and configs and all(
        isinstance(c, dict) and set(c) <= {"policy", "jit_compile"} for c in configs), who,
        "configs", "a non-empty list of dicts with the keys policy and jit_compile", configs,
        "configs=[{'policy': 'float32', 'jit_compile': False}]")
    input_shape = tuple(input_shape)
    runs = [dict(policy=c.get("policy", "float32"), jit_compile=bool(c.get("jit_compile")))
            for c in configs]
    ready = [_prepared(network, r["policy"], r["jit_compile"], batch_size, input_shape,
                       classes, seed) for r in runs]
    timed = [[] for _ in runs]
    for _ in range(repeats):
        for blocks, (model, x, y, _) in zip(timed, ready):
            blocks.append(_images_per_second(model, x, y, steps))
    for run, blocks, (*_, first) in zip(runs, timed, ready):
        q1, median, q3 = np.percentile(blocks, [25, 50, 75])
        run.update(network=network, batch_size=batch_size, input_shape=list(input_shape),
                   images_per_s=float(median), spread=float(q3 - q1),
                   runs=[float(b) for b in blocks], first_step_s=first)
    return runs


def train_throughput(network="timing_cnn", *, policy="float32", jit_compile=False,
                     **options) -> dict:
    """``throughputs`` of one configuration: images/s of ``network``'s training step under
    the dtype ``policy``, with or without XLA (``jit_compile``); ``options`` as there."""
    return throughputs([{"policy": policy, "jit_compile": jit_compile}], network=network,
                       **options)[0]


def _gpu_name():
    """The first GPU's name as the active Keras backend sees it, or None."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            return gpus[0].device_kind if gpus else None
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            details = tf.config.experimental.get_device_details(gpus[0]) if gpus else None
            return details.get("device_name", "GPU") if gpus else None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # a broken driver means no usable GPU
        return None
    return None


def device_is_gpu() -> bool:
    """True when the active Keras backend trains on a GPU here."""
    return _gpu_name() is not None


def device_name() -> str:
    """The device Keras trains on here: the first GPU's name when the backend sees one,
    else the CPU's model (from ``/proc/cpuinfo`` on Linux) and its core count."""
    import platform

    gpu = _gpu_name()
    if gpu:
        return gpu
    model = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        model = names[0] if names else model
    return f"{model} ({os.cpu_count()} cores)"


# --------------------------------------------------------------------------- data parallelism


def _fashion_slice(n):
    from course_utils import data

    (x, y), _ = data.load_fashion_mnist()
    return data.prepare(x[:n]), y[:n].astype("int32")


def _compiled_cnn(seed):
    import keras

    keras.utils.set_random_seed(seed)
    model = timing_cnn(width=8)
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    return model


def _largest_difference(a, b) -> float:
    import numpy as np

    return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b))


def _epoch_seconds(model, x, y, batch_size) -> float:
    """Seconds of one more epoch of ``fit`` (its step already traced)."""
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return time.perf_counter() - start


def mirrored_demo(*, replicas=2, batch_size=16, images=64, epochs=2, seed=0) -> dict:
    """``tf.distribute.MirroredStrategy`` over ``replicas`` logical CPU devices, against one
    device on the same Fashion-MNIST images, in a process where TensorFlow has not run yet
    (run it with ``in_subprocess("mirrored_demo")``).

    Returns the devices, each replica's share of one global batch, the gradient of each
    replica's half against their average and against the whole batch's gradient, the
    losses and weights after ``epochs`` of ``fit`` on one device and on all of them, and the
    seconds of one more epoch on each.

    Raises ``env.TensorFlowRequired`` where Keras runs on another backend.

    Args:
        replicas: logical CPU devices to split the CPU into.
        batch_size: the global batch, split evenly across replicas.
        images: training images.
        epochs: epochs of ``fit``, without shuffling, so both runs see the same batches.
        seed: for the weights.
    """
    import keras

    from course_utils.env import require_tensorflow

    require_tensorflow("mirrored_demo", "MirroredStrategy is tf.distribute's, with "
                       "TensorFlow's logical devices")
    import tensorflow as tf

    require(batch_size % replicas == 0, "mirrored_demo", "batch_size",
            f"a multiple of replicas={replicas}", batch_size, "batch_size=16")
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)])
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    strategy = tf.distribute.MirroredStrategy(devices)
    x, y = _fashion_slice(images)
    single = _compiled_cnn(seed)
    with strategy.scope():
        mirrored = _compiled_cnn(seed)
    shares = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size))
    first_x, first_y = next(iter(shares))

    def gradients(model, images_, labels):  # of the mean loss over the images given
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                labels, model(images_)))
        return tape.gradient(loss, model.trainable_variables)

    per_replica = strategy.run(lambda a, b: gradients(mirrored, a, b), args=(first_x, first_y))
    local = [[g.numpy() for g in grads] for grads in
             zip(*(strategy.experimental_local_results(g) for g in per_replica))]
    mean = [sum(parts) / replicas for parts in zip(*local)]
    reduced = [strategy.reduce("MEAN", g, axis=None).numpy() for g in per_replica]
    whole = gradients(single, x[:batch_size], y[:batch_size])
    models = {"one device": single, "mirrored": mirrored}
    history = {name: model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False,
                               verbose=0).history["loss"] for name, model in models.items()}
    differ = _largest_difference(single.get_weights(), mirrored.get_weights())
    return {"devices": devices, "replicas": strategy.num_replicas_in_sync,
            "global_batch": batch_size,
            "replica_batches": [list(v.shape) for v in
                                strategy.experimental_local_results(first_x)],
            "replica_devices": [v.device for v in strategy.experimental_local_results(first_x)],
            "replica_gradients_differ_by": _largest_difference(local[0], local[-1]),
            "all_reduce_vs_mean": _largest_difference(reduced, mean),
            "all_reduce_vs_whole_batch": _largest_difference(reduced, whole),
            "loss": history, "weights_differ_by": differ,
            "epoch_seconds": {name: _epoch_seconds(model, x, y, batch_size)
                              for name, model in models.items()}}


def data_parallel_demo(*, batch_size=16, images=64, epochs=2, seed=0) -> dict:
    """Keras 3's ``keras.distribution.DataParallel`` on every JAX device, against one device
    on the same images. Run it where JAX sees several devices:
    ``in_subprocess("data_parallel_demo", env=jax_cpu_devices(2))``.

    Returns the mesh, how one batch is sharded over it, the losses and weights after
    ``epochs`` of ``fit`` without and with the distribution, and the seconds of one more
    epoch of each.

    Args:
        batch_size: the global batch, split across the devices.
        images: training images.
        epochs: epochs of ``fit``, without shuffling.
        seed: for the weights.
    """
    import keras

    require(keras.backend.backend() == "jax", "data_parallel_demo", "the Keras backend",
            "jax", keras.backend.backend(), "env=jax_cpu_devices(2) sets KERAS_BACKEND=jax")
    x, y = _fashion_slice(images)
    devices = keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    layout = distribution.get_data_layout((batch_size, *x.shape[1:]))
    sharded = keras.distribution.distribute_tensor(x[:batch_size], layout)
    single = _compiled_cnn(seed)
    one = single.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False,
                     verbose=0).history["loss"]
    with distribution.scope():
        parallel = _compiled_cnn(seed)
        many = parallel.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False,
                            verbose=0).history["loss"]
    differ = _largest_difference(single.get_weights(), parallel.get_weights())
    seconds = {"one device": _epoch_seconds(single, x, y, batch_size)}
    with distribution.scope():
        seconds["data parallel"] = _epoch_seconds(parallel, x, y, batch_size)
    return {"devices": devices, "mesh_shape": list(distribution.device_mesh.shape),
            "mesh_axes": list(distribution.device_mesh.axis_names),
            "batch_layout": [str(a) for a in layout.axes], "global_batch": batch_size,
            "shards": [[str(s.device), list(s.data.shape)] for s in sharded.addressable_shards],
            "weight_layout": str(parallel.weights[0].value.sharding.spec),
            "loss": {"one device": one, "data parallel": many},
            "weights_differ_by": differ, "epoch_seconds": seconds}


# --------------------------------------------------------------------------- a fresh process


TASKS = {"throughputs": throughputs, "mirrored_demo": mirrored_demo,
         "data_parallel_demo": data_parallel_demo, "train_throughput": train_throughput}


def jax_available() -> bool:
    """True when JAX can be imported here (Keras's JAX backend needs it)."""
    import importlib.util

    return importlib.util.find_spec("jax") is not None


def jax_cpu_devices(n=2) -> dict:
    """The environment of a process in which Keras runs on JAX and JAX sees ``n`` CPU
    devices (``XLA_FLAGS=--xla_force_host_platform_device_count=n``), for ``in_subprocess``."""
    require(isinstance(n, int) and n >= 1, "jax_cpu_devices", "n", "a positive integer", n,
            "n=2")
    return {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": f"--xla_force_host_platform_device_count={n}"}


def in_subprocess(task, *, env=None, timeout=600, **options):
    """Run ``TASKS[task](**options)`` in a fresh Python process and return its result (a
    dict or list of plain values). ``env`` adds to this process's environment, e.g.
    ``jax_cpu_devices(2)``; TensorFlow's start-up messages are silenced.

    Args:
        task: ``"throughputs"``, ``"train_throughput"``, ``"mirrored_demo"`` or
            ``"data_parallel_demo"``.
        env: environment variables for the child.
        timeout: seconds before the child is stopped.
        options: keyword arguments of the task, as JSON.

    Raises:
        RuntimeError: the child failed; the message ends with its last lines of output.
    """
    require(task in TASKS, "in_subprocess", "task", f"one of {sorted(TASKS)}", task,
            "in_subprocess('mirrored_demo')")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child_env = {**os.environ, **QUIET, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH"))
                                              if p)
    done = subprocess.run([sys.executable, "-m", "course_utils.scale", task,
                           json.dumps(options)], env=child_env, capture_output=True,
                          text=True, timeout=timeout, cwd=root)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"in_subprocess({task!r}) failed with exit status "
                           f"{done.returncode}; its last lines:\n{tail}")
    return json.loads(lines[-1][len(MARKER):])


def _main(argv):
    task, options = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    print(MARKER + json.dumps(TASKS[task](**options)), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
