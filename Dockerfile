# The trainingjob-guard admission webhook (the image the Helm chart in
# charts/trainingjob-guard runs). Build from the project root:
#   docker build -t trainingjob-guard:0.1.0 .
# Pin the base image by digest in your registry for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the project wheel and its dependencies, into a virtualenv ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# What the wheel is built from: pyproject.toml names README.md as the readme and
# force-includes policies/ into the package (see .dockerignore for the rest).
COPY pyproject.toml README.md ./
COPY webhook/ webhook/
COPY policies/ policies/
# pip compiles the .pyc files here, since the root filesystem is read-only at run time.
RUN /opt/venv/bin/pip install . \
 && /opt/venv/bin/trainingjob-guard --version

# --- runtime ------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# Same base image as the build stage, so the venv's interpreter link is valid.
COPY --from=build /opt/venv /opt/venv
# The policy library at a stable path, to read or copy from. The webhook loads the
# baseline from the package itself (site-packages), unless --no-baseline.
COPY policies/ /app/policies/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_STATE_HOME=/tmp
WORKDIR /app
# A numeric non-root user (the chart's runAsUser), so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["trainingjob-guard"]
CMD ["serve", "--host", "0.0.0.0"]
