#!/usr/bin/env python3
"""Smoke-test the container image as the Helm chart runs it.

Runs the image with buildah (as root, chroot isolation) in a working container
whose root filesystem is mounted read-only, as the chart's
``readOnlyRootFilesystem: true`` has it, with a writable /tmp (the chart's
emptyDir). Nothing else is writable but /dev/shm, as in a pod, and /run, where
buildah itself puts a file per run; /run is checked to be empty afterwards. Then:

- the image's configuration: the numeric non-root user 65532, the entry point;
- a probe as root fails to write to / (the read-only mount holds);
- commands run as user 65532; ``--version`` names pyproject.toml's version;
- ``validate --examples`` exits 1 with the known finding on the bundled examples;
- the image's own command, ``serve``, with its default certificate folder
  (under /tmp): GET /readyz answers 200 over TLS verified against the CA the
  server generated, POST /validate allows the valid example and denies the
  invalid one, and SIGTERM stops it with exit status 0.

Usage:
    python scripts/smoke_image.py [IMAGE]     # default localhost/trainingjob-guard:dev

STORAGE_DRIVER (default vfs) names buildah's storage driver, as for scripts/build_image.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "webhook" / "examples"
DEFAULT_IMAGE = "localhost/trainingjob-guard:dev"
USER = "65532:65532"
"""The chart's runAsUser and runAsGroup, which the image must declare as its user."""
CERT_DIR = "trainingjob-guard/certs"
"""Where in /tmp ``serve`` generates its certificates by default (XDG_STATE_HOME=/tmp)."""
KNOWN_FINDING = "deny sagemaker.pattern spec.trainingJobName"
KNOWN_SUMMARY = "2 TrainingJobs checked: 1 denied"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class SmokeError(Exception):
    """The image does not behave as the chart needs it to."""


def buildah(*args: str) -> list[str]:
    """A buildah command line with the storage driver scripts/build_image uses."""
    return ["buildah", "--storage-driver", os.environ.get("STORAGE_DRIVER", "vfs"), *args]


def capture(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, output captured, stdin closed."""
    return subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, timeout=120
    )


def required(command: Sequence[str]) -> str:
    """The standard output of a command that must succeed."""
    result = capture(command)
    if result.returncode != 0:
        raise SmokeError(f"{' '.join(command)}: exit {result.returncode}: {result.stderr.strip()}")
    return result.stdout.strip()


def ok(message: str) -> None:
    """Report one check that passed."""
    print(f"smoke: ok - {message}", flush=True)


class Container:
    """A working container with a read-only root, writable /tmp from the host, and /run."""

    def __init__(self, image: str, tmp: Path) -> None:
        self.image = image
        self.tmp = tmp
        self.name = ""
        self.root = Path()
        self.mounts: list[Path] = []

    def __enter__(self) -> Container:
        self.name = required(buildah("from", "--pull=never", "--quiet", self.image))
        self.root = Path(required(buildah("mount", self.name)))
        # One run while the root is still writable, so that buildah creates the mount
        # points it needs (/etc/hosts and the like) before the root turns read-only.
        required(self.command("/opt/venv/bin/python", "-c", "pass"))
        self._mount(self.root, "--bind", str(self.root))
        required(["mount", "-o", "remount,bind,ro", str(self.root)])
        # buildah writes /run/.containerenv on every run and removes it afterwards.
        self._mount(self.root / "run", "-t", "tmpfs", "-o", "mode=755,size=1m", "tmpfs")
        return self

    def _mount(self, target: Path, *source: str) -> None:
        required(["mount", *source, str(target)])
        self.mounts.append(target)

    def __exit__(self, *exc_info: object) -> None:
        for mount in reversed(self.mounts):
            capture(["umount", str(mount)])
        if self.name:
            capture(buildah("umount", self.name))
            capture(buildah("rm", self.name))

    def command(self, *argv: str, user: str | None = None) -> list[str]:
        """The buildah command line that runs *argv* in the container (host network)."""
        options = ["--isolation", "chroot", "--network", "host"]
        options += ["--volume", f"{self.tmp}:/tmp"]
        if user is not None:
            options += ["--user", user]
        return buildah("run", *options, self.name, "--", *argv)

    def left_in_run(self) -> list[str]:
        """What runs left in /run, which the read-only root leaves writable for buildah."""
        return sorted(entry.name for entry in (self.root / "run").iterdir())


def check_config(image: str) -> dict[str, Any]:
    """The image declares the chart's non-root user and the CLI as its entry point."""
    inspected = json.loads(required(buildah("inspect", "--type", "image", image)))
    config: dict[str, Any] = inspected["OCIv1"]["config"]
    if config.get("User") != USER:
        raise SmokeError(f"image user is {config.get('User')!r}, the chart runs as {USER}")
    if config.get("Entrypoint") != ["trainingjob-guard"]:
        raise SmokeError(f"entry point is {config.get('Entrypoint')!r}")
    if (config.get("Cmd") or [None])[0] != "serve":
        raise SmokeError(f"command is {config.get('Cmd')!r}, not serve")
    ok(f"image runs as {USER}: {config['Entrypoint'] + config['Cmd']}")
    return config


def check_read_only(container: Container) -> None:
    """Even root cannot write to the root filesystem."""
    probe = "open('/smoke-probe', 'w')"
    result = capture(container.command("/opt/venv/bin/python", "-c", probe, user="0:0"))
    if result.returncode == 0 or "Read-only file system" not in result.stderr:
        raise SmokeError(f"root could write to /: exit {result.returncode} {result.stderr}")
    ok("the root filesystem is read-only (root's write to / fails)")


def check_commands(container: Container) -> None:
    """The CLI runs as 65532 and finds its bundled examples and policies."""
    ids = "import os; print(f'{os.getuid()}:{os.getgid()}')"
    uid = required(container.command("/opt/venv/bin/python", "-c", ids))
    if uid != USER:
        raise SmokeError(f"commands run as {uid}, not {USER}")
    with (PROJECT / "pyproject.toml").open("rb") as file:
        version = tomllib.load(file)["project"]["version"]
    printed = required(container.command("trainingjob-guard", "--version"))
    if printed != f"trainingjob-guard {version}":
        raise SmokeError(f"--version printed {printed!r}, expected version {version}")
    ok(f"runs as {uid}; --version: {printed}")
    result = capture(container.command("trainingjob-guard", "validate", "--examples"))
    if result.returncode != 1 or KNOWN_FINDING not in result.stdout:
        raise SmokeError(
            f"validate --examples: exit {result.returncode}, expected 1 with {KNOWN_FINDING!r}:\n"
            f"{result.stdout}{result.stderr}"
        )
    if KNOWN_SUMMARY not in result.stdout:
        raise SmokeError(f"validate --examples did not say {KNOWN_SUMMARY!r}:\n{result.stdout}")
    ok(f"validate --examples exits 1: {KNOWN_FINDING} ...; {KNOWN_SUMMARY}")


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def request(
    port: int, context: ssl.SSLContext, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    """One HTTPS request to the server on the loopback address."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def descendants(pid: int) -> list[int]:
    """The processes under *pid*, nearest first (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def server_pid(runner: int) -> int:
    """The webhook's own process under the buildah run process (its uid is 65532)."""
    for pid in reversed(descendants(runner)):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text()
            uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if uid == USER.partition(":")[0] and b"python" in cmdline[0]:
                return pid
    raise SmokeError("no webhook process (uid 65532, python) under buildah run")


def admission_reviews() -> tuple[bytes, bytes]:
    """The bundled AdmissionReview, of the valid example and of the invalid one."""
    template = json.loads((EXAMPLES / "admission-review.json").read_text(encoding="utf-8"))
    reviews = []
    for example in ("training-job.yaml", "training-job-invalid.yaml"):
        review = copy.deepcopy(template)
        review["request"]["object"] = yaml.safe_load((EXAMPLES / example).read_text("utf-8"))
        reviews.append(json.dumps(review).encode())
    return reviews[0], reviews[1]


def check_serve(container: Container, config: dict[str, Any]) -> None:
    """The image's command serves over TLS, decides, and stops on SIGTERM."""
    port = free_port()
    # The image's own command line; later options win, so the server listens on the
    # loopback address only, on a free port.
    argv = [*config["Entrypoint"], *config["Cmd"], "--host", "127.0.0.1", "--port", str(port)]
    log = container.tmp.parent / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            container.command(*argv),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _check_serving(container, server, port, log)
        webhook = server_pid(server.pid)
        os.kill(webhook, signal.SIGTERM)
        try:
            status = server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired as error:
            raise SmokeError(f"still running {STOP_TIMEOUT:.0f} s after SIGTERM") from error
        if status != 0:
            raise SmokeError(f"exit status {status} after SIGTERM:\n{_tail(log)}")
        ok("SIGTERM stops the server with exit status 0")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _check_serving(
    container: Container, server: subprocess.Popen[bytes], port: int, log: Path
) -> None:
    ca = container.tmp / CERT_DIR / "ca.crt"
    deadline = time.monotonic() + READY_TIMEOUT
    status, body = 0, b""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeError(f"serve exited with status {server.returncode}:\n{_tail(log)}")
        if ca.exists():
            context = ssl.create_default_context(cafile=str(ca))
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, body = request(port, context, "GET", "/readyz")
                if status == 200:
                    break
        time.sleep(0.25)
    else:
        raise SmokeError(f"no 200 from /readyz in {READY_TIMEOUT:.0f} s ({status}):\n{_tail(log)}")
    ok(f"GET /readyz: 200 over TLS verified with the CA generated in /tmp: {CERT_DIR}/ca.crt")
    allowed_review, denied_review = admission_reviews()
    for review, allowed in ((allowed_review, True), (denied_review, False)):
        status, body = request(port, context, "POST", "/validate", review)
        answer = json.loads(body) if status == 200 else {}
        if answer.get("response", {}).get("allowed") is not allowed:
            raise SmokeError(f"POST /validate: {status} {body[:500]!r}, expected allowed={allowed}")
    ok("POST /validate allows the valid example and denies the invalid one")


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", default=DEFAULT_IMAGE)
    args = parser.parse_args(argv)
    try:
        config = check_config(args.image)
        with tempfile.TemporaryDirectory(prefix="smoke-image-") as scratch:
            tmp = Path(scratch) / "tmp"
            tmp.mkdir()
            tmp.chmod(0o1777)  # like /tmp: the container's user 65532 writes here
            with Container(args.image, tmp) as container:
                check_read_only(container)
                check_commands(container)
                check_serve(container, config)
                left = container.left_in_run()
                if left:
                    raise SmokeError(f"runs wrote to /run, read-only in the chart: {left}")
                ok("nothing was written outside /tmp")
    except (SmokeError, subprocess.TimeoutExpired) as error:
        print(f"smoke: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
