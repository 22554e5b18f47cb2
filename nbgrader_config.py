"""nbgrader's configuration for this course (read by every `nbgrader` command run here).

The course's folders map onto nbgrader's steps:
  solutions/<assignment>/    nbgrader's *source*: the instructor's master copy
  assignments/<assignment>/  nbgrader's *release*: what students open (committed to git)
  grading/...                submitted, autograded and feedback copies and the gradebook
                             (never in git)
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "convnet-classics"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = os.path.join("grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grading", "feedback")
c.CourseDirectory.solution_directory = os.path.join("grading", "solution")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "grading", "gradebook.db")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading runs students' code in the course's grader kernel (course_utils/grader/kernel.py:
# resource limits, no TensorFlow chatter in cells, and as root an unprivileged user), with
# a per-cell timeout and a budget for the whole notebook (course_utils/grader/preprocessors.py).
c.Execute.kernel_name = "course-grader"
c.Execute.timeout = 60
c.GraderExecute.budget = 600
c.Autograde.autograde_preprocessors = [
    "course_utils.grader.preprocessors.GraderExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "course_utils.grader.preprocessors.LimitOutputSize",
    "course_utils.grader.preprocessors.StderrIsNotFailure",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Test cells a student deleted are put back and run.
c.OverwriteCells.add_missing_cells = True

# Feedback shows every test's result but not the code of the hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "course_utils.grader.preprocessors.HideTestCode",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# `nbgrader export` writes a status column: graded / could not be graded / not submitted.
c.ExportApp.plugin_class = "course_utils.grader.export.StatusCsvExport"
