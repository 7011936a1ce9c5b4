"""The MILP method: its pipeline (:mod:`~greenopt.milp.pipeline`) and its infeasibility
diagnosis (:mod:`~greenopt.milp.diagnose`).

Nothing is imported here, so that ``greenopt.milp.diagnose`` (used by every method under hard
deadlines) does not pull in Pyomo.
"""
