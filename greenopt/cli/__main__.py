"""``python -m greenopt.cli``: the command line, as the ``greenopt`` script runs it."""

from greenopt.cli import app

app()
