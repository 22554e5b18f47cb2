"""Helpers for the ConvNet Classics course, laid out by who uses them.

What a student imports in a notebook (core dependencies only, as on Colab):

- :mod:`course_utils.profiles`    how much work a notebook does (smoke / cpu / gpu), seeding,
  a ``clear_session`` that keeps the profile's precision
- :mod:`course_utils.data`        Fashion-MNIST and MNIST offline first, sample photos
- :mod:`course_utils.arithmetic`  output sizes, parameters and MACs by formula
- :mod:`course_utils.inspection`  ``layer_table``, ``trace``, ``feature_maps`` and ``structure_only`` builds
- :mod:`course_utils.arguments`   one argument check for the helpers: what, expected, got, a hint
- :mod:`course_utils.keras_graph` the one reader of Keras's private graph attributes
- :mod:`course_utils.layers`      layers Keras lacks: LRN, a scratch BN, PCA colour, DropConnect, stochastic pooling
- :mod:`course_utils.plots`       curves, image grids, filters, feature maps, cost charts
- :mod:`course_utils.diagrams`    block diagrams drawn from the course's own builders
- :mod:`course_utils.training`    fit-and-evaluate with timing
- :mod:`course_utils.schedules`   a one-cycle learning-rate schedule, the learning-rate finder
- :mod:`course_utils.transfer`    transfer learning: a base and a head, freezing from the top, ImageNet bases offline-safe
- :mod:`course_utils.augment`     photos to augment, an augmentation grid, ten crops, predictions averaged over views
- :mod:`course_utils.compress`    magnitude pruning (a callback and masks), gzipped size, channel pruning, distillation
- :mod:`course_utils.quantise`    post-training quantisation through LiteRT (float16, dynamic, int8), Keras's own int8 report
- :mod:`course_utils.deploy`      small and fast measured alike: size, batch-1 latency, accuracy; ratios, Pareto front, int8 goals
- :mod:`course_utils.binary`      binarised layers (sign with a straight-through estimator), a binarised CNN and its twin, packed storage, XNOR-popcount
- :mod:`course_utils.recipes`     keras-io's simple convnet and the course's fast recipe, raced on the clock
- :mod:`course_utils.landscape`   the loss along a line and over a plane through the weights
- :mod:`course_utils.cost`        what a training run costs: FLOPs, days on a given GPU and on many
- :mod:`course_utils.scale`       training at scale: float16/bfloat16, throughput with and without XLA, data parallelism in a fresh process
- :mod:`course_utils.speed`       CPU latency (median of repeated runs, with spread), size on disk
- :mod:`course_utils.cache`       train once, reuse after: trained weights and features kept per profile
- :mod:`course_utils.losses`      losses Keras lacks: NT-Xent, the contrastive loss of SimCLR
- :mod:`course_utils.glance`      the zoo at a glance: costs, latency, reported top-1 with sources
- :mod:`course_utils.roadmap`     ConvNeXt's roadmap from ResNet-50, one buildable network per step (Table 10)
- :mod:`course_utils.report`      print a measured result with its profile; the benchmarked ones
- :mod:`course_utils.exercises`   self-checking answers for the exercises, without the answer
- :mod:`course_utils.zoo`         the course's canonical network builders
- :mod:`course_utils.env`         the environment check that opens the course; what needs TensorFlow itself

What the test cells of the assignments call:

- :mod:`course_utils.grading`     checks that say what they checked, expected and got, and a hint

The instructor's pipeline (needs the ``grader`` extra): :mod:`course_utils.grader`, one module
a step (release, collect, autograde, preprocessors, re-check, own work, status, export, kernel),
run as ``python -m course_utils.grader STEP``.

Maintainer tools: :mod:`course_utils.maintainer` (Colab badges and set-up cells, the headless
notebook runner).

Importing the package itself is cheap: Keras is imported by the modules that need it.
"""

__version__ = "0.1.0"

from course_utils.profiles import clear_session, current_profile, setup  # noqa: E402,F401
