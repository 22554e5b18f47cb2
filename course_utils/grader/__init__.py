"""The instructor's grading pipeline (needs the ``grader`` extra: nbgrader), one module a step:

- :mod:`~course_utils.grader.cli`            ``python -m course_utils.grader STEP``: the command line
- :mod:`~course_utils.grader.paths`          where every step reads and writes (``grading/``, ``grades.csv``)
- :mod:`~course_utils.grader.process`        nbgrader's API in this process; stopping a grading process and all it started
- :mod:`~course_utils.grader.release`        ``solutions/`` -> ``assignments/``, and the staleness check
- :mod:`~course_utils.grader.collect`        submissions from a folder or an LMS zip, names repaired
- :mod:`~course_utils.grader.autograde`      worker processes, sharded gradebooks, the watchdog
- :mod:`~course_utils.grader.preprocessors`  nbgrader preprocessors: time budget, output caps, re-check
- :mod:`~course_utils.grader.recheck`        every passed test cell run again in the grading process
- :mod:`~course_utils.grader.own_work`       "is this the student's own code?", decided from the source
- :mod:`~course_utils.grader.status`         how grading went for each submission
- :mod:`~course_utils.grader.export`         HTML feedback, and grades with a status column
- :mod:`~course_utils.grader.kernel`         the sandboxed kernel that runs submissions
- :mod:`~course_utils.grader.forkserver`     kernels copied from a process that imported Keras once

What released notebooks import (the checks their test cells call) is :mod:`course_utils.grading`,
which needs none of this. Importing this package is cheap: the kernel imports :mod:`.paths`.
"""
