"""The instructor's grading pipeline, one command per step (all headless):

    python -m course_utils.grader release [A ...]      solutions/A -> assignments/A
    python -m course_utils.grader check-release [A ...]  exit 1 if assignments/ is stale
    python -m course_utils.grader collect A SOURCE     a folder or an LMS .zip of notebooks
    python -m course_utils.grader autograde A          every collected submission of A
    python -m course_utils.grader feedback A           HTML feedback, hidden tests removed
    python -m course_utils.grader export               grading/grades.csv with a status column
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course_utils.grader.autograde import (
    DEFAULT_BUDGET,
    DEFAULT_CELL_TIMEOUT,
    autograde,
    grade_students,
)
from course_utils.grader.collect import DEFAULT_STUDENT_PATTERN, collect
from course_utils.grader.export import export, feedback
from course_utils.grader.kernel import install_kernelspec
from course_utils.grader.paths import ROOT
from course_utils.grader.process import GradingError
from course_utils.grader.release import check_release, release


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the course directory")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="solutions/A -> assignments/A")
    p.add_argument("assignments", nargs="*")
    p = sub.add_parser("check-release", help="exit 1 if assignments/ is out of date")
    p.add_argument("assignments", nargs="*")
    sub.add_parser("install-kernel", help="install the grader kernel into this environment")
    p = sub.add_parser("collect", help="import submissions from a folder or an LMS zip")
    p.add_argument("assignment")
    p.add_argument("source", type=Path)
    p.add_argument("--student-pattern", default=DEFAULT_STUDENT_PATTERN,
                   help="regular expression with (?P<student_id>...) for flat file names")
    p = sub.add_parser("autograde", help="grade every collected submission")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only these students")
    p.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT)
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                   help="seconds for a whole notebook")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded side by side (default: one per core)")
    p = sub.add_parser("_worker", help=argparse.SUPPRESS)
    p.add_argument("assignment")
    p.add_argument("--students", type=Path, required=True, help="a JSON list of them")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT)
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    p = sub.add_parser("feedback", help="HTML feedback for graded submissions")
    p.add_argument("assignment")
    sub.add_parser("export", help="grades with status to grading/grades.csv")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command == "release":
            for path in release(root, args.assignments or None):
                print(f"released {path.relative_to(root)}")
        elif args.command == "check-release":
            stale = check_release(root, args.assignments or None)
            for name in stale:
                print(f"out of date: {name}")
            if stale:
                print("Run `make release` and commit assignments/.")
                return 1
            print("assignments/ is up to date with solutions/.")
        elif args.command == "install-kernel":
            print(f"installed {install_kernelspec()}")
        elif args.command == "collect":
            for row in collect(root, args.assignment, args.source, args.student_pattern):
                print(f"{row.student or '?':<20} {row.notebook or '-':<10} {row.source}  "
                      f"[{row.note}]")
        elif args.command == "autograde":
            autograde(root, args.assignment, args.student, args.cell_timeout, args.budget,
                      args.jobs)
        elif args.command == "_worker":
            grade_students(root, args.assignment, args.students, args.db, args.cell_timeout,
                           args.budget)
        elif args.command == "feedback":
            for path in feedback(root, args.assignment):
                print(f"feedback {path.relative_to(root)}")
        elif args.command == "export":
            print(f"exported {export(root).relative_to(root)}")
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

