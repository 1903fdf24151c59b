"""WSGI entry point: ``flask --app app run`` or ``gunicorn app:app``."""

import gc

from trainingmgr import create_app

app = create_app()
# The objects built at start-up (modules, the app, its routes) live as long as the process:
# freezing them keeps the garbage collector from scanning them again on every full pass (a
# matrix of 7,200 cells spent more time there than rendering), and keeps the memory pages
# that gunicorn's workers share with the master untouched (docs/performance.md).
gc.freeze()
