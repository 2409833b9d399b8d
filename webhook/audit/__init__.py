"""Audits of TrainingJobs that already exist: the pure part, without I/O.

Every stored TrainingJob is judged by :func:`webhook.engine.review` as a CREATE of
today, without the defaults (:mod:`webhook.audit.examine`); what is made of those
decisions is one module each:

* :mod:`webhook.audit.report`: the non-compliant jobs and counts (``audit -o text|json``);
* :mod:`webhook.audit.policyreport`: ``wgpolicyk8s.io/v1alpha2`` PolicyReports, one per
  namespace (``audit -o policyreport``), and what a continuous audit needs to keep them
  current (the API's types: :mod:`webhook.audit.wgpolicyk8s`);
* :mod:`webhook.audit.impact`: which jobs a policy change flips (``audit --compare-to``).

Where the jobs come from (a cluster's list, or manifest files) is the adapters' part:
:mod:`webhook.kube.audit` lists them, :mod:`webhook.kube.policyreports` writes reports,
:mod:`webhook.cli.audit` reads files, and :mod:`webhook.cli.output.audit` renders what
the command prints. Nothing is imported here, so importing a module of
this package never loads another one's dependencies.
"""
