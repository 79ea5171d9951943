"""The command line, for support staff and scripts.

Exit codes: 0 when nothing failed, 1 when a check or a call to Microsoft failed, 2 for a usage
error (bad arguments or values), 130 when interrupted.

``entry.main`` parses the words and runs the command the parser chose (``set_defaults(func=…)``);
each command group (check, rooms, offices, export) is one module that adds its options and runs
through the use cases in ``core/usecases.py``, bound by the composition root in ``runtime.py``.
"""

from clearooms_wizard.cli.entry import main

__all__ = ["main"]
