"""The crowd study server: the batches of the workflow's crowd design, served to real people.

:mod:`source` reads a designed study (the ``crowd_design`` rule's tasks and assignments of every
sample set), :mod:`db` holds the schema whose unique constraints make assignment safe under
concurrency, :mod:`service` does arrival, assignment, answers, leases, progress and export,
:mod:`app` is the web application (Starlette + Jinja2, served by uvicorn), :mod:`cli` the
``saliency-repro study`` command and :mod:`simulate` the simulated workers of the load tests and
benchmark. The workflow reads a study through :func:`service.write_long_csv`: the counted answers
in the long CSV of :mod:`saliency_repro.crowd.platform`.
"""
