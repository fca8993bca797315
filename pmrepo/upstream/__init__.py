"""What is new upstream: each component's upstream asked through nvchecker (``check``, with
pmrepo's own bounded sources in ``sources``), the newest acceptable version chosen
(``select``) and the report (``report``)."""
