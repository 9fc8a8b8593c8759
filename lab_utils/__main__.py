import sys

from lab_utils.instructor.cli import main

# Guarded: the Dask workers of `autograde` are spawned processes, which import the main
# module again (as __mp_main__) and must not run the command a second time.
if __name__ == "__main__":
    sys.exit(main())
