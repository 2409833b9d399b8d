# The trainingjob-guard admission webhook (the image the Helm chart in
# charts/trainingjob-guard runs). Build from the project root:
#   docker build -t trainingjob-guard:0.1.0 .
# or, without a container daemon, scripts/build_image (then scripts/smoke_image.py).
# Pin the base image by digest in your registry for reproducible builds; every
# Python package comes by hash from requirements/*.lock (scripts/lock_image.py).
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the dependencies and the project wheel, into a virtualenv ---------
FROM ${PYTHON_IMAGE} AS build
# pip verifies TLS against the system's CA bundle rather than the one it vendors,
# so a build behind a TLS-inspecting proxy can mount its own bundle over this file.
# Wheels only: the runtime image has no compiler, and a wheel installs the same
# files every time.
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
# Two virtualenvs: /opt/build holds pip and the build backend, /opt/venv (the one
# the runtime image gets) only what the webhook runs, without pip or setuptools.
RUN python -m venv /opt/build \
 && python -m venv --without-pip /opt/venv
WORKDIR /src
# The locked dependencies first: this layer is reused until a lock file changes.
COPY requirements/ requirements/
RUN /opt/build/bin/pip install --require-hashes --only-binary :all: -r requirements/image-build.lock \
 && /opt/build/bin/pip --python /opt/venv/bin/python install \
      --require-hashes --only-binary :all: -r requirements/image.lock
# What the wheel is built from: pyproject.toml names README.md as the readme and
# force-includes policies/ into the package (.dockerignore keeps out the rest).
COPY pyproject.toml README.md ./
COPY webhook/ webhook/
COPY policies/ policies/
# The wheel is built with the locked backend (no build isolation, which would fetch
# an unpinned one) and installed without dependencies: they are all in place, and
# `pip check` fails the build if pyproject.toml asks for one the lock lacks.
# pip compiles the .pyc files here, since the root filesystem is read-only at run time.
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
 && /opt/build/bin/pip --python /opt/venv/bin/python install --no-deps --no-index /tmp/dist/*.whl \
 && /opt/build/bin/pip --python /opt/venv/bin/python check \
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
