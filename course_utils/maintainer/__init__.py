"""Tools for the course's maintainers, not for students:

- :mod:`~course_utils.maintainer.colab`   the repository address, Colab badges and set-up cells (``make sync``)
- :mod:`~course_utils.maintainer.runner`  execute notebooks headless with a clear failure (``make notebooks``)
"""
