"""Test support kept out of every wheel: what students' editors do to a notebook
(:mod:`tests.support.editors`) and the simulated classes built from the per-lab cases of
:mod:`tests.cases` (:mod:`tests.support.simclass`), for the tests and the benchmark."""
