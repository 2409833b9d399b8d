"""The admission webhook server: AdmissionReview over HTTPS, reloads, metrics."""
