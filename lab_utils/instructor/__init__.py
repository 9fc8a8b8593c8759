"""What an instructor, the benchmark and CI run; nothing here is imported by a lab.

- :mod:`lab_utils.instructor.cli` -- ``python -m lab_utils <command>``.
- :mod:`lab_utils.instructor.grading` -- the nbgrader workflow: course folders, release,
  collect, autograde, scores, feedback, export.
- :mod:`lab_utils.instructor.nbgrader_ext` -- nbgrader plug-ins that fix or harden nbgrader
  0.9.6 (configured in ``nbgrader_config.py``), and the parser of hidden-test regions.
- :mod:`lab_utils.instructor.classreport` -- after grading, what the class understood: a
  per-lab HTML page and CSV tables (``python -m lab_utils report LAB``).

The per-lab cases and simulated classes live in ``tests/cases`` and ``tests/support`` (no
wheel carries them).  The student side -- what a lab notebook imports -- is the top level
of :mod:`lab_utils`.
"""
