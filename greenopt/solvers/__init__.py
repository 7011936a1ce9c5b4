"""Solver adapters over a model in standard form: HiGHS (:mod:`~greenopt.solvers.highs`),
fix-and-optimise (:mod:`~greenopt.solvers.lns`), column generation
(:mod:`~greenopt.solvers.colgen`) and the solver check of ``greenopt doctor``
(:mod:`~greenopt.solvers.doctor`).

Nothing is imported here: each adapter imports its solver only when it is used.
"""
