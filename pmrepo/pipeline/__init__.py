"""The one orchestrator (``orchestrator.Pipeline``: every command is a ``run_<command>``
method), the checks before any work (``preflight``), ``plan``'s report (``plan_report``) and
``publish``'s body (``publish_step``). It imports every stage; no stage imports it."""
