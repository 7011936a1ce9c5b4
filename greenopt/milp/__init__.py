"""The MILP method: its pipeline (:mod:`~greenopt.milp.pipeline`) and its infeasibility
diagnosis (:mod:`~greenopt.milp.diagnose`); the schedule relaxation
(:mod:`~greenopt.milp.schedules`: a bound from each job's whole schedules, and plans from them).

Nothing is imported here, so that ``greenopt.milp.diagnose`` (used by every method under hard
deadlines) does not pull in Pyomo.
"""
