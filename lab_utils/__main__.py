import sys

from lab_utils.instructor.cli import main

sys.exit(main())
