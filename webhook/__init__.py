"""trainingjob-guard: admission checks for AWS ACK SageMaker TrainingJobs."""

from __future__ import annotations

__version__ = "0.1.0"
