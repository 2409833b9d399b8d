"""The operations endpoints: ``/healthz``, ``/readyz`` and ``/metrics``.

A small FastAPI application that the admission handler of :mod:`webhook.server.app`
passes every other path to: probes and scrapes are few, so a framework's cost does
not matter here.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from webhook.server.state import ServerState


def operations_app(state: ServerState) -> FastAPI:
    """The application of the operations endpoints, reading *state*."""
    app = FastAPI(title="trainingjob-guard", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        """Ready: the policies are loaded (the cluster's too) and the certificate is valid."""
        problems = []
        expiry = state.certificate_seconds()
        if expiry is not None and expiry <= 0:
            problems.append("the serving certificate has expired")
        if state.cluster is not None and not state.cluster.loaded:
            problems.append("the cluster's TrainingJobPolicy objects are not loaded yet")
        status = 200 if not problems else 503
        return JSONResponse(
            {
                "status": "ok" if not problems else "not ready",
                "problems": problems,
                "policies": [p.id for p in state.config.policies.policies],
                "lastReloadError": state.last_reload_error,
                "certificateExpiresInSeconds": expiry,
            },
            status_code=status,
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus metrics, rendered on the event loop, where the requests are counted."""
        expiry = await asyncio.to_thread(state.certificate_seconds)
        if expiry is not None:
            state.metrics.certificate_expiry.set(expiry)
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")

    return app
