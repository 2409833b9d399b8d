#!/usr/bin/env python3
"""Generate webhook/constraints/sagemaker_training_job.json from the SageMaker service model.

The SageMaker API's own constraints (lengths, patterns, enums, ranges, list and
map sizes, nested required fields) live in the service model that botocore
ships. botocore pins an old python-dateutil that the kubernetes client
outgrew, so the package never imports botocore: this script downloads the
pinned botocore wheel with pip, reads ``sagemaker/2017-07-24/service-2.json.gz``
straight out of the zip, walks ``CreateTrainingJobRequest`` next to the ACK
CRD's ``spec`` schema, and keeps every shape the CRD exposes, under the CRD's
field names (ACK renames acronyms: ``RoleArn`` -> ``roleARN``, ``S3Uri`` ->
``s3URI``; names match case-insensitively).

The CRD comes from a checkout of the ACK sagemaker-controller at the pinned tag
(ACK_TAG) named by $TRAININGJOB_GUARD_ACK_DIR (default ``../shared/ack`` beside
the project), or from ``--crd``; without it the script says what to set and
exits 2.

Usage:
    python scripts/generate_constraints.py            # rewrite the data file
    python scripts/generate_constraints.py --check    # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

BOTOCORE_VERSION = "1.44.8"
MODEL_MEMBER = "botocore/data/sagemaker/2017-07-24/service-2.json.gz"
ROOT_SHAPE = "CreateTrainingJobRequest"

PROJECT = Path(__file__).resolve().parent.parent
OUTPUT = PROJECT / "webhook" / "constraints" / "sagemaker_training_job.json"
CACHE = PROJECT / ".cache" / "botocore"

# The ACK data, located as the tests locate it (tests/conftest.py; a test keeps the two equal).
ACK_DIR_VARIABLE = "TRAININGJOB_GUARD_ACK_DIR"
ACK_REPOSITORY = "github.com/aws-controllers-k8s/sagemaker-controller"
ACK_TAG = "v1.9.1"
ACK_DEFAULT = PROJECT.parent / "shared" / "ack"
CRD_IN_ACK = "config/crd/bases/sagemaker.services.k8s.aws_trainingjobs.yaml"

# Shapes whose enum is a list of instance types: AWS adds types often, so these
# get their own rule id that a platform team can downgrade to a warning.
INSTANCE_TYPE_SHAPES = {"TrainingInstanceType", "ProcessingInstanceType"}
# Patterns that accept any string (Java `[\S\s]*`): they constrain nothing.
ANY_PATTERNS = {r"[\S\s]*", r"[\s\S]*"}

Json = dict[str, Any]


def fetch_wheel(version: str, cache: Path) -> Path:
    """Return the botocore wheel for *version*, downloading it with pip if needed."""
    found = sorted(cache.glob(f"botocore-{version}-*.whl"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(cache),
        f"botocore=={version}",
    ]
    subprocess.run(command, check=True)
    found = sorted(cache.glob(f"botocore-{version}-*.whl"))
    if not found:
        raise SystemExit(f"pip did not leave a botocore {version} wheel in {cache}")
    return found[0]


def read_service_model(wheel: Path) -> tuple[Json, str]:
    """Return the SageMaker service model and the sha256 of its gzip file."""
    with zipfile.ZipFile(wheel) as archive:
        raw = archive.read(MODEL_MEMBER)
    return json.loads(gzip.decompress(raw)), hashlib.sha256(raw).hexdigest()


def ack_crd() -> Path:
    """The TrainingJob CRD in the ACK checkout that $TRAININGJOB_GUARD_ACK_DIR names."""
    configured = os.environ.get(ACK_DIR_VARIABLE)
    return (Path(configured) if configured else ACK_DEFAULT) / CRD_IN_ACK


def read_crd_spec(path: Path) -> Json:
    """Return the openAPIV3Schema of the TrainingJob CRD's ``spec``."""
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    schema: Json = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec: Json = schema["properties"]["spec"]
    return spec


class Generator:
    """Walks the API shapes and the CRD schema side by side."""

    def __init__(self, model: Json) -> None:
        self.api = model["shapes"]
        self.shapes: dict[str, Json] = {}
        self.api_only: set[str] = set()
        self.crd_only: set[str] = set()

    def visit(self, shape_name: str, crd: Json, where: str) -> None:
        """Record *shape_name* (and what it reaches) as the CRD schema *crd* exposes it."""
        shape = self.api[shape_name]
        kind = shape["type"]
        if kind == "structure":
            entry = self.structure(shape_name, shape, crd, where)
        elif kind == "list":
            member = shape["member"]["shape"]
            self.visit(member, crd.get("items", {}), where + "[]")
            entry = {"type": "list", "member": member, **bounds(shape)}
        elif kind == "map":
            key, value = shape["key"]["shape"], shape["value"]["shape"]
            self.visit(key, {"type": "string"}, where + "{key}")
            self.visit(value, crd.get("additionalProperties", {}), where + "{value}")
            entry = {"type": "map", "key": key, "value": value, **bounds(shape)}
        elif kind == "string":
            entry = {"type": "string", **bounds(shape)}
            pattern = shape.get("pattern")
            if pattern is not None and pattern not in ANY_PATTERNS:
                entry["pattern"] = pattern
            if "enum" in shape:
                entry["enum"] = shape["enum"]
                if shape_name in INSTANCE_TYPE_SHAPES:
                    entry["instanceTypes"] = True
        elif kind in ("integer", "long"):
            entry = {"type": "int32" if kind == "integer" else "int64", **bounds(shape)}
        elif kind == "boolean":
            entry = {"type": "boolean"}
        else:
            raise SystemExit(f"{where}: shape {shape_name} has unsupported type {kind}")
        previous = self.shapes.get(shape_name)
        if previous is not None and previous != entry:
            raise SystemExit(f"{where}: shape {shape_name} appears with two CRD layouts")
        self.shapes[shape_name] = entry

    def structure(self, shape_name: str, shape: Json, crd: Json, where: str) -> Json:
        """Map a structure's members onto the CRD's property names."""
        properties: Json = crd.get("properties", {})
        by_folded = {name.lower(): name for name in properties}
        members: Json = {}
        for api_name, ref in shape["members"].items():
            crd_name = by_folded.pop(api_name.lower(), None)
            if crd_name is None:
                self.api_only.add(f"{where}.{api_name}".lstrip("."))
                continue
            self.visit(ref["shape"], properties[crd_name], f"{where}.{crd_name}")
            members[crd_name] = {"shape": ref["shape"], "api": api_name}
        self.crd_only.update(f"{where}.{name}".lstrip(".") for name in by_folded.values())
        required = [
            crd_name
            for api_name in shape.get("required", [])
            for crd_name, ref in members.items()
            if ref["api"] == api_name
        ]
        return {"type": "structure", "members": members, "required": required}


def bounds(shape: Json) -> Json:
    """Return the min / max of a shape (length, size or value, by its type)."""
    return {key: shape[key] for key in ("min", "max") if key in shape}


def generate(wheel: Path, crd_path: Path) -> str:
    """Return the text of the data file."""
    model, digest = read_service_model(wheel)
    generator = Generator(model)
    generator.visit(ROOT_SHAPE, read_crd_spec(crd_path), "")
    if generator.crd_only:
        raise SystemExit(f"CRD fields with no API counterpart: {sorted(generator.crd_only)}")
    metadata = model["metadata"]
    document = {
        "_generated": (
            f"GENERATED by scripts/generate_constraints.py from botocore {BOTOCORE_VERSION}; "
            "do not edit. Regenerate: python scripts/generate_constraints.py"
        ),
        "source": {
            "botocore": BOTOCORE_VERSION,
            "service": metadata["serviceId"],
            "apiVersion": metadata["apiVersion"],
            "sha256": digest,
        },
        "root": ROOT_SHAPE,
        "apiOnlyFields": sorted(generator.api_only),
        "shapes": dict(sorted(generator.shapes.items())),
    }
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    # Put the "generated" notice on the first line, where people and tools look.
    return "{" + text[len("{\n ") :]


def main(argv: list[str] | None = None) -> int:
    """Write or check the generated data file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--wheel", type=Path, help="a botocore wheel (default: download)")
    parser.add_argument(
        "--crd",
        type=Path,
        help=f"the ACK TrainingJob CRD (default: the one in ${ACK_DIR_VARIABLE}, or ../shared/ack)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    crd: Path = args.crd or ack_crd()
    if not crd.is_file():
        print(
            f"error: no TrainingJob CRD at {crd}: set {ACK_DIR_VARIABLE} to a checkout of "
            f"{ACK_REPOSITORY} at {ACK_TAG} (default ../shared/ack), or pass --crd",
            file=sys.stderr,
        )
        return 2
    wheel = args.wheel or fetch_wheel(BOTOCORE_VERSION, CACHE)
    text = generate(wheel, crd)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python scripts/generate_constraints.py")
            return 1
        print(f"{args.output} is up to date (botocore {BOTOCORE_VERSION})")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} from botocore {BOTOCORE_VERSION}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
