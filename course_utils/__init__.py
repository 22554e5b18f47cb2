"""Helpers for the ConvNet Classics course.

One module per job:

- :mod:`course_utils.profile`    how much work a notebook does (smoke / cpu / gpu), seeding
- :mod:`course_utils.data`       Fashion-MNIST and MNIST offline first, sample photos
- :mod:`course_utils.arithmetic` output sizes, parameters and MACs by formula
- :mod:`course_utils.inspect`    ``layer_table`` and ``trace``
- :mod:`course_utils.plots`      curves, image grids, filters, feature maps, cost charts
- :mod:`course_utils.training`   fit-and-evaluate with timing
- :mod:`course_utils.landscape`  the loss along a line and over a plane through the weights
- :mod:`course_utils.cost`       what a training run costs: FLOPs, days on a given GPU
- :mod:`course_utils.report`     print a measured result with the profile it came from
- :mod:`course_utils.zoo`        the course's canonical network builders
- :mod:`course_utils.grading`    checks for autograded assignments that teach when they fail
- :mod:`course_utils.env`        the environment check that opens the course
- :mod:`course_utils.colab`      the repository URL, Colab badges and set-up cells
- :mod:`course_utils.runner`     execute notebooks headless with a clear failure

Importing the package itself is cheap: Keras is imported by the modules that need it.
"""

__version__ = "0.1.0"

from course_utils.profile import current_profile, setup  # noqa: E402,F401
