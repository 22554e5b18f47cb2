"""Making a CNN small and fast: magnitude pruning, compressed size, channel pruning and
knowledge distillation, for Keras 3 (the TensorFlow Model Optimization toolkit needs Keras 2).

- :func:`polynomial_sparsity` and :class:`MagnitudePruning` zero the smallest weights of
  each kernel, more and more of them as training goes on (Zhu and Gupta 2017, "To prune, or
  not to prune", arXiv:1710.01878); :func:`sparsity` reports each kernel's fraction of zeros.
- :func:`gzipped_size` measures what the zeros buy: the size of the weights file after
  gzip, as the TFMOT pruning tutorials do. Unstructured zeros shrink the file, not the work.
- :func:`channel_importance` and :func:`slim_sequential_cnn` remove whole filters (Li et al.
  2017, "Pruning Filters for Efficient ConvNets", arXiv:1608.08710): a narrower network with
  fewer parameters and fewer multiply-accumulates.
- :class:`Distiller` trains a small student on a big teacher's softened outputs (Hinton,
  Vinyals and Dean 2015, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531).

The Keras parts use ``keras`` and ``keras.ops`` only, so they run on every backend; masks,
importances and weight surgery are done offline in NumPy.
"""

from __future__ import annotations

import gzip
import math
import os
import tempfile

import keras
import numpy as np
from keras import ops

from course_utils.arguments import require
from course_utils.keras_graph import all_layers, inbound_nodes

PRUNABLE = (keras.layers.Conv2D, keras.layers.Dense, keras.layers.DepthwiseConv2D)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_fraction(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1


# --- magnitude pruning ---------------------------------------------------------------------


def polynomial_sparsity(step, begin_step, end_step, initial=0.0, final=0.8, power=3):
    """Zhu and Gupta's schedule (2017, equation 1): the sparsity at ``step``,

    ``s_t = s_f + (s_i - s_f) * (1 - (t - t_0) / (end_step - t_0)) ** power``

    from ``initial`` (``s_i``) at ``begin_step`` (``t_0``) to ``final`` (``s_f``) at
    ``end_step``: it prunes fast at first, while there are many redundant weights, and slowly
    near the end. Before ``begin_step`` it is ``initial``, after ``end_step`` ``final``.

    Args:
        step: the training step (batch count), a number or an array of them.
        begin_step: the step pruning starts at.
        end_step: the step the final sparsity is reached at, > ``begin_step``.
        initial: the sparsity at ``begin_step``, in [0, 1).
        final: the sparsity at ``end_step``, in [0, 1).
        power: the exponent; the paper's is 3.

    Returns:
        A float for a scalar ``step``, else an array of the same shape.
    """
    who = "polynomial_sparsity"
    require(_is_int(begin_step) and begin_step >= 0, who, "begin_step",
            "a whole number of steps >= 0", begin_step, "0 prunes from the first batch.")
    require(_is_int(end_step) and end_step > begin_step, who, "end_step",
            f"a whole number of steps > begin_step={begin_step!r}", end_step,
            "end pruning some epochs before training ends, so the network can recover.")
    for name, value in (("initial", initial), ("final", final)):
        require(_is_fraction(value), who, name, "a fraction of zeros in [0, 1)", value,
               "80% sparsity is 0.8.")
    require(isinstance(power, (int, float)) and power > 0, who, "power", "a positive number",
            power, "Zhu and Gupta use 3.")
    progress = np.clip((np.asarray(step, dtype=float) - begin_step) / (end_step - begin_step),
                       0.0, 1.0)
    s = final + (initial - final) * (1.0 - progress) ** power
    return float(s) if s.ndim == 0 else s


def magnitude_mask(weights, sparsity):
    """The mask (1 keep, 0 prune) that zeroes the ``round(sparsity * weights.size)``
    smallest-magnitude entries of ``weights`` (ties broken by position), a NumPy array of
    ``weights``' shape and dtype. Weights that are already zero are the first to go, so
    masks computed at rising sparsities only ever grow."""
    weights = np.asarray(weights)
    require(_is_fraction(sparsity), "magnitude_mask", "sparsity",
            "a fraction of zeros in [0, 1)", sparsity, "80% sparsity is 0.8.")
    flat = np.abs(weights).ravel()
    mask = np.ones(flat.size, dtype=weights.dtype)
    mask[np.argsort(flat, kind="stable")[:round(sparsity * flat.size)]] = 0
    return mask.reshape(weights.shape)


def prunable_layers(model):
    """The layers whose ``kernel`` magnitude pruning thins: Conv2D, Dense, DepthwiseConv2D
    (inside nested models too). Biases and batch-norm parameters are never pruned: they
    are few, and each one shifts a whole feature map."""
    return [layer for layer in all_layers(model) if isinstance(layer, PRUNABLE)]


def sparsity(model):
    """Each prunable kernel's fraction of zeros, ``{layer name: fraction}``."""
    return {layer.name: float(np.mean(ops.convert_to_numpy(layer.kernel) == 0))
            for layer in prunable_layers(model)}


class MagnitudePruning(keras.callbacks.Callback):
    """Gradual magnitude pruning as a callback (Zhu and Gupta 2017, section 3).

    Every ``frequency`` steps from ``begin_step`` to ``end_step`` it computes, for each
    prunable kernel, a mask that zeroes its smallest-magnitude weights to reach
    :func:`polynomial_sparsity`'s value for that step; after every batch it multiplies each
    kernel by its mask, so pruned weights stay zero while the others keep training. The step
    is the optimizer's ``iterations``, so a second ``fit`` carries on where the first stopped.

    Nothing is wrapped: the model stays a plain Keras model that saves and loads without
    custom objects, and there is nothing to strip afterwards (TFMOT's ``strip_pruning``);
    the masks live in the callback (``masks``). Read the result with :func:`sparsity`.
    Use ``steps_per_execution=1`` (the default): the callback sees one batch at a time.

    Args:
        final_sparsity: the fraction of each kernel's weights that are zero at the end.
        begin_step: the step at which the first mask is computed.
        end_step: the step at which ``final_sparsity`` is reached; masks stay fixed after.
        frequency: steps between mask updates (``Delta t`` in the paper; TFMOT's default 100).
        layers: the layers (or their names) to prune; all prunable layers if None.
        initial_sparsity: the sparsity of the first mask.
        power: the schedule's exponent.
    """

    def __init__(self, final_sparsity, begin_step, end_step, frequency=100, layers=None,
                 initial_sparsity=0.0, power=3):
        super().__init__()
        polynomial_sparsity(begin_step, begin_step, end_step, initial_sparsity,
                            final_sparsity, power)  # checks the schedule's arguments
        require(_is_int(frequency) and frequency >= 1, "MagnitudePruning", "frequency",
                "a whole number of steps >= 1", frequency,
                "update the masks every 100 steps, or every step on a tiny run.")
        self.final_sparsity, self.initial_sparsity, self.power = final_sparsity, \
            initial_sparsity, power
        self.begin_step, self.end_step, self.frequency = begin_step, end_step, frequency
        self.layers, self.masks = layers, {}

    def _targets(self):
        found = prunable_layers(self.model)
        if self.layers is None:
            return found
        by_name = {layer.name: layer for layer in found}
        targets = []
        for wanted in self.layers:
            name = wanted if isinstance(wanted, str) else getattr(wanted, "name", wanted)
            require(name in by_name, "MagnitudePruning", "each of layers",
                    f"a prunable layer of the model, one of {sorted(by_name)}", wanted,
                    "only Conv2D, Dense and DepthwiseConv2D kernels are pruned.")
            targets.append(by_name[name])
        return targets

    def _due(self, step):
        if not self.begin_step <= step <= self.end_step:
            return False
        return (step - self.begin_step) % self.frequency == 0 or step == self.end_step

    def _update_masks(self, step):
        s = polynomial_sparsity(step, self.begin_step, self.end_step, self.initial_sparsity,
                                self.final_sparsity, self.power)
        for layer in self._layers:
            self.masks[layer.name] = magnitude_mask(ops.convert_to_numpy(layer.kernel), s)

    def _apply_masks(self):
        for layer in self._layers:
            if layer.name in self.masks:
                layer.kernel.assign(layer.kernel * self.masks[layer.name])

    def on_train_begin(self, logs=None):
        self._layers = self._targets()
        if self._due(int(self.model.optimizer.iterations)):
            self._update_masks(int(self.model.optimizer.iterations))
        self._apply_masks()

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations)  # steps done, this batch included
        if self._due(step):
            self._update_masks(step)
        self._apply_masks()


# --- compressed size -----------------------------------------------------------------------


def gzipped_size(path_or_bytes):
    """Bytes after gzip (level 9) of a file, of ``bytes``, or of a Keras model's weights
    file (saved to a temporary ``.weights.h5``): how the TFMOT pruning tutorials show that
    zeros make a model smaller to store and download. A dense float32 file barely
    compresses; runs of zeros do. (The size in memory and the work are unchanged.)

    Args:
        path_or_bytes: a path (str or ``os.PathLike``), ``bytes``, or a ``keras.Model``.
    """
    if isinstance(path_or_bytes, keras.Model):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.weights.h5")
            path_or_bytes.save_weights(path)
            return gzipped_size(path)
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        with open(path_or_bytes, "rb") as file:
            data = file.read()
    else:
        raise TypeError(
            f"gzipped_size: expected a file path, bytes or a keras.Model; got "
            f"{type(path_or_bytes).__name__}. Hint: model.save_weights('m.weights.h5') and "
            f"pass the path, or pass the model itself.")
    return len(gzip.compress(data, compresslevel=9, mtime=0))


# --- structured (channel) pruning ----------------------------------------------------------


def channel_importance(kernel):
    """The L1 norm of each output filter of a convolution (or dense) kernel, the sum of
    ``|w|`` over every axis but the last (Li et al. 2017, section 3.1): filters with small
    norms produce weak feature maps and are the first to remove."""
    kernel = np.asarray(ops.convert_to_numpy(kernel))
    require(kernel.ndim >= 2, "channel_importance", "kernel",
            "a kernel with output filters on its last axis (Conv2D: kh x kw x c_in x c_out)",
            kernel.shape, "pass layer.kernel of a Conv2D or Dense layer.")
    return np.abs(kernel).sum(axis=tuple(range(kernel.ndim - 1)))


# Layers that treat each channel on its own: the kept channels pass straight through.
_PER_CHANNEL = (keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU,
                keras.layers.MaxPooling2D, keras.layers.AveragePooling2D,
                keras.layers.Dropout, keras.layers.SpatialDropout2D,
                keras.layers.ZeroPadding2D)
_GLOBAL_POOL = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)


def _chain(model):
    """``model``'s layers in order, if they form a single chain (else a ValueError)."""
    who = "slim_sequential_cnn"
    require(model.built, who, "model",
            "a built model with a fixed input shape", model.name,
            "start a Sequential with keras.Input((height, width, channels)).")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers
    require(len(model.inputs) == 1 and len(model.outputs) == 1, who, "model",
            "a chain with one input and one output", model.name,
            "rebuild branches (residual blocks) by hand, or use a Sequential model.")
    for previous, layer in zip([None, *layers], layers):
        expected = model.inputs[0] if previous is None else previous.output
        require(len(inbound_nodes(layer)) == 1 and layer.input is expected, who, "model",
                "a plain chain, each layer fed by the one before", layer.name,
                "rebuild branches (residual blocks) by hand, or use a Sequential model.")
    return layers


def _kept(layer, keep):
    who = "slim_sequential_cnn"
    filters = layer.filters
    if _is_int(keep):
        require(1 <= keep <= filters, who, "keep", f"a number of filters in 1..{filters}", keep,
                "keep some of the filters, e.g. half of them.")
        order = np.argsort(-channel_importance(layer.kernel), kind="stable")
        return np.sort(order[:keep])
    kept = np.asarray(keep)
    require(kept.ndim == 1 and kept.size >= 1 and np.issubdtype(kept.dtype, np.integer)
            and len(set(kept.tolist())) == kept.size and kept.min() >= 0
            and kept.max() < filters, who, "keep",
            f"a count, or distinct filter indices in 0..{filters - 1}", keep,
            "pass an int to keep the filters with the largest L1 norms.")
    return kept


def _slice_next(layer, weights, kept, spatial):
    """The weights of the layer that reads the pruned channels, keeping only their inputs."""
    kernel, *rest = weights
    if isinstance(layer, keras.layers.Conv2D) and layer.groups == 1:
        return [kernel[:, :, kept, :], *rest]
    if isinstance(layer, keras.layers.Dense) and spatial is None:
        return [kernel[kept, :], *rest]
    if isinstance(layer, keras.layers.Dense):  # after Flatten: rows run (h, w, c), c fastest
        rows = kernel.reshape(spatial, -1, kernel.shape[-1])[:, kept, :]
        return [rows.reshape(-1, kernel.shape[-1]), *rest]
    raise ValueError(
        f"slim_sequential_cnn: after the pruned convolution, the next layer to read its "
        f"channels should be a Conv2D (groups=1) or a Dense; got {type(layer).__name__} "
        f"{layer.name!r}. Hint: only BatchNormalization, activations, pooling, dropout, "
        f"padding, Flatten and global pooling may sit in between.")


def slim_sequential_cnn(model, layer_name, keep):
    """A narrower copy of a plain chain CNN (conv -> (BN) -> ReLU -> ... -> conv or dense):
    the convolution ``layer_name`` keeps only ``keep`` filters, and the layers after it
    only the matching channels, down to the next layer that mixes channels (a Conv2D, or a
    Dense after Flatten or global pooling), which loses the matching input weights. Every
    other weight is copied. This is Li et al.'s filter pruning (2017, section 3.1) for one
    layer; fine-tune afterwards to recover the accuracy.

    If the removed filters' outputs are zero after the layers in between (e.g. zero kernel
    and bias, and a BN that maps 0 to 0), the copy computes exactly the same function.

    Args:
        model: a ``keras.Sequential`` or a functional model whose layers form one chain,
            channels last.
        layer_name: the name of the Conv2D to thin.
        keep: how many filters to keep (those with the largest L1 norms, see
            :func:`channel_importance`, in their original order), or their indices.

    Returns:
        A new ``keras.Sequential`` with the same input shape, built, with weights set.
    """
    who = "slim_sequential_cnn"
    layers = _chain(model)
    names = [layer.name for layer in layers]
    require(layer_name in names, who, "layer_name", f"the name of a layer of the chain, one of "
            f"{names}", layer_name, "model.summary() lists the names.")
    index = names.index(layer_name)
    target = layers[index]
    require(isinstance(target, keras.layers.Conv2D) and target.groups == 1
            and target.data_format == "channels_last", who, "layer_name",
            "a Conv2D (groups=1, channels last)", f"{type(target).__name__} {layer_name!r}",
            "prune the filters of an ordinary convolution.")
    kept = _kept(target, keep)

    shape = tuple(model.inputs[0].shape[1:])
    new_layers, new_weights = [], []
    state, spatial = "before", None  # before the target / carrying kept channels / done
    for i, layer in enumerate(layers):
        config, weights = layer.get_config(), [np.asarray(w) for w in layer.get_weights()]
        if i == index:
            config["filters"] = int(kept.size)
            weights = [weights[0][..., kept], *(w[kept] for w in weights[1:])]
            state = "carrying"
        elif state == "carrying":
            if isinstance(layer, keras.layers.BatchNormalization):
                weights = [w[kept] for w in weights]
            elif isinstance(layer, keras.layers.Flatten):
                spatial = math.prod(shape[:-1])
            elif isinstance(layer, _GLOBAL_POOL):
                spatial = None
            elif isinstance(layer, (keras.layers.Softmax, keras.layers.Activation)) and \
                    "softmax" in str(config.get("activation", "softmax")):
                raise ValueError(
                    f"{who}: the layers between the pruned convolution and the next one should "
                    f"treat each channel on its own; got a softmax, {layer.name!r}, which mixes "
                    f"them. Hint: prune a convolution that is followed by another layer.")
            elif not isinstance(layer, _PER_CHANNEL):
                weights = _slice_next(layer, weights, kept, spatial)
                state = "done"
        shape = tuple(layer.compute_output_shape((None, *shape))[1:])
        new_layers.append(type(layer).from_config(config))
        new_weights.append(weights)
    slim = keras.Sequential([keras.Input(tuple(model.inputs[0].shape[1:])), *new_layers],
                            name=f"{model.name}_slim")
    for layer, weights in zip(new_layers, new_weights, strict=True):
        layer.set_weights(weights)
    return slim


# --- knowledge distillation ----------------------------------------------------------------


@keras.saving.register_keras_serializable(package="course_utils")
class Distiller(keras.Model):
    """Knowledge distillation (Hinton, Vinyals and Dean 2015, section 2): train ``student``
    on a mix of the true labels and a frozen ``teacher``'s softened predictions,

    ``loss = alpha * CE(y, softmax(s)) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))``

    with ``s`` and ``t`` the student's and the teacher's logits and ``T`` the temperature.
    A high ``T`` softens the teacher's distribution so that the small probabilities it puts
    on wrong classes (its "dark knowledge") carry signal; the gradients of the soft term
    scale as ``1 / T**2``, hence the ``T**2`` that keeps both terms' weights comparable when
    ``T`` changes. The paper got its best results with a considerably lower weight on the
    hard labels: ``alpha=0.1`` (as in the Keras distillation example).

    Both models must output **logits** (no final softmax). ``call`` returns the student's
    logits, so ``predict`` and the compiled metrics see the student. The teacher is frozen
    (``trainable = False``) and always run in inference mode. The loss is computed in
    Keras 3's ``compute_loss`` hook, so ``fit`` and ``evaluate`` work on every backend:
    compile with an optimizer and metrics, no loss. Labels may be class indices or one-hot.

    Args:
        student: a Keras model, the network to train.
        teacher: a trained Keras model with the same number of outputs.
        alpha: the weight of the cross-entropy with the true labels, in [0, 1].
        temperature: ``T >= 1``; Hinton et al. tried 1 to 20.
    """

    def __init__(self, student, teacher, alpha=0.1, temperature=3.0, **kwargs):
        super().__init__(**kwargs)
        who = "Distiller"
        require(isinstance(alpha, (int, float)) and 0 <= alpha <= 1, who, "alpha",
                "the weight of the true labels, in [0, 1]", alpha,
                "alpha=0.1 leans on the teacher; alpha=1 is plain training.")
        require(isinstance(temperature, (int, float)) and temperature > 0, who, "temperature",
                "a positive number", temperature, "temperatures of 2 to 10 are usual.")
        self.student, self.teacher = student, teacher
        self.teacher.trainable = False
        self.alpha, self.temperature = float(alpha), float(temperature)

    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def _cross_entropy(self, y, logits):
        if len(y.shape) == len(logits.shape) and y.shape[-1] == logits.shape[-1] != 1:
            return keras.losses.categorical_crossentropy(y, logits, from_logits=True)
        return keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)

    def distillation_loss(self, teacher_logits, student_logits):
        """``T**2 * KL(softmax(t / T) || softmax(s / T))`` per example."""
        t = self.temperature
        soft_teacher = ops.log_softmax(ops.cast(teacher_logits, "float32") / t, axis=-1)
        soft_student = ops.log_softmax(ops.cast(student_logits, "float32") / t, axis=-1)
        kl = ops.sum(ops.exp(soft_teacher) * (soft_teacher - soft_student), axis=-1)
        return t ** 2 * kl

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_logits = ops.stop_gradient(self.teacher(x, training=False))
        per_example = (self.alpha * self._cross_entropy(y, ops.cast(y_pred, "float32"))
                       + (1 - self.alpha) * self.distillation_loss(teacher_logits, y_pred))
        if sample_weight is None:
            loss = ops.mean(per_example)
        else:  # Keras's default reduction: weighted sum over the batch size
            weights = ops.reshape(ops.cast(sample_weight, "float32"), ops.shape(per_example))
            loss = ops.mean(per_example * weights)
        for extra in self.student.losses:  # the student's regularisation, if any
            loss = loss + ops.cast(extra, "float32")
        return loss

    def get_config(self):
        return {**super().get_config(),
                "student": keras.saving.serialize_keras_object(self.student),
                "teacher": keras.saving.serialize_keras_object(self.teacher),
                "alpha": self.alpha, "temperature": self.temperature}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("student", "teacher"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
