"""The built-in checks: what the SageMaker API and the ACK controller accept.

Generated from the SageMaker service model (``sagemaker_training_job.json``, by
``scripts/generate_constraints.py``) and compiled into shapes (:mod:`.schema`), checked
by a walk (:mod:`.check`) after the size gate (:mod:`.bounds`, :mod:`.sizes`), with the
cross-field rules the model cannot state (:mod:`.rules`), the controller's UPDATE rules
(:mod:`.update`) and the native proof of a job they find nothing in (:mod:`.proof`).
Patterns are read with Java's meaning (:mod:`.patterns`); messages in :mod:`.messages`.
"""
