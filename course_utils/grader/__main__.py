import sys

from course_utils.grader.cli import main

sys.exit(main())
