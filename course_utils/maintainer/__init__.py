"""Tools for the course's maintainers, not for students:

- :mod:`~course_utils.maintainer.colab`   the repository address, Colab badges and set-up cells (``make sync``)
- :mod:`~course_utils.maintainer.runner`  execute notebooks headless with a clear failure (``make notebooks``)
- :mod:`~course_utils.maintainer.runs`    the README's "Measured runs" from benchmarks/results/ (cpu and GPU runs; ``--check``)
- :mod:`~course_utils.maintainer.floors`  pyproject.toml's version floors as exact pins, for the floor test (``make test-floor``)
- :mod:`~course_utils.maintainer.website` the course's static site, built offline with Sphinx and myst-nb (``make site``)
"""
