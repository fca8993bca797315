"""Build the jobs in BuildRequires order: the build graph (``graph``), a dist's plan and the jobs
taken from the previous release (``plan``, ``reuse``, ``take``), the jobs and their keys
(``jobs``), the content-addressed store (``store``) and the parallel scheduler (``scheduler``),
the order jobs start in (``order``) and the durations it is planned from (``estimates``,
``timings``)."""
