"""Messages for constraint findings: what is wrong, what is allowed, and a fix.

Values are shown with :func:`webhook.text.show`; a value flagged *sensitive*
(``hyperParameters``, ``environment``) is never shown.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from webhook.constraints.patterns import LINE_TERMINATOR
from webhook.constraints.schema import (
    INT32_MAX,
    Constraints,
    IntShape,
    ListShape,
    MapShape,
    Member,
    StringShape,
)
from webhook.text import did_you_mean, show, suggestion

LISTED: Final = 12
"""Largest enum a message lists in full."""

#: What a pattern means, by service-model shape name, in words a person reads faster.
PATTERN_HINTS: Final = {
    "TrainingJobName": (
        "1-63 letters, digits and hyphens, starting and ending with a letter or digit"
    ),
    "ExperimentEntityName": (
        "1-120 letters, digits and hyphens, starting and ending with a letter or digit"
    ),
    "RoleArn": "an IAM role ARN such as arn:aws:iam::123456789012:role/SageMakerExecution",
    "S3Uri": "an s3:// or https:// URI naming a bucket, such as s3://my-bucket/prefix/",
    "KmsKeyId": "a KMS key id, key ARN, alias name or alias ARN (letters, digits, : / _ -)",
    "SecurityGroupId": "a security group id such as sg-0123456789abcdef0",
    "SubnetId": "a subnet id such as subnet-0123456789abcdef0",
    "ChannelName": "letters, digits, '.', '-' and '_'",
    "FileSystemId": "a file system id such as fs-0123456789abcdef0",
    "TagKey": "letters, digits, spaces and _ . : / = + - @",
    "TagValue": "letters, digits, spaces and _ . : / = + - @",
    "TrainingEnvironmentKey": "a letter or '_' followed by letters, digits and '_'",
    "ArnOrName": "an algorithm name (letters, digits, hyphens) or a SageMaker algorithm ARN",
}

#: Shapes whose bad values can often be fixed by replacing odd characters with '-'.
HYPHENATED_NAMES: Final = frozenset({"TrainingJobName", "ExperimentEntityName", "ArnOrName"})


def placeholder(found: str) -> str:
    """A template placeholder was left in."""
    return (
        f"contains the unsubstituted placeholder {found}: replace it with a real value "
        "(envsubst, kustomize or helm) before applying"
    )


def required(member: Member) -> str:
    """A field SageMaker requires is missing."""
    shape = member.shape
    allowed = ""
    if isinstance(shape, StringShape) and shape.enum and len(shape.enum) <= LISTED:
        allowed = f" (one of: {', '.join(shape.enum)})"
    return f"{member.name} is required by SageMaker{allowed}; missing"


def _bounds(low: int | None, high: int | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low} to {high} {unit}"
    if high is not None:
        return f"at most {high} {unit}"
    return f"at least {low} {unit}"


def length(value: str, shape: StringShape, sensitive: bool) -> str:
    """A string is too short or too long."""
    shown = "value" if sensitive else show(value)
    return (
        f"{shown} is {len(value)} characters long; SageMaker allows "
        f"{_bounds(shape.min, shape.max, 'characters')}"
    )


def key_length(key: str, shape: StringShape) -> str:
    """A map key is too short or too long."""
    return (
        f"key {show(key)} is {len(key)} characters long; SageMaker allows "
        f"{_bounds(shape.min, shape.max, 'characters')}"
    )


def enum(value: str, shape: StringShape, constraints: Constraints) -> str:
    """A value is not in the enum."""
    near = suggestion(did_you_mean(value, shape.enum))
    if shape.instance_types:
        near = near or "."
        kind = "training" if shape.name.startswith("Training") else "processing"
        return (
            f"{show(value)} is not a SageMaker {kind} instance type (list from the "
            f"{constraints.source}){near} If AWS has added it since, the platform team can "
            "set rule sagemaker.instance-type to warn"
        )
    if len(shape.enum) <= LISTED:
        return f"{show(value)} is not allowed; allowed: {', '.join(shape.enum)}{near}"
    return f"{show(value)} is not one of the {len(shape.enum)} values SageMaker allows{near}"


def pattern(value: str, shape: StringShape, sensitive: bool) -> str:
    """A string does not match its pattern."""
    shown = "value" if sensitive else show(value)
    hint = PATTERN_HINTS.get(shape.name)
    text = f"{shown} is not {hint}" if hint else f"{shown} does not match {shape.pattern}"
    text += _java_reading(value, shape)
    if sensitive or shape.name not in HYPHENATED_NAMES or shape.matcher is None:
        return text
    fixed = re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-")
    if shape.max is not None:
        fixed = fixed[: shape.max].rstrip("-")
    if fixed and fixed != value and shape.matcher.fullmatch(fixed):
        text += suggestion([fixed])
    return text


def key_pattern(key: str, shape: StringShape) -> str:
    """A map key does not match its pattern."""
    hint = PATTERN_HINTS.get(shape.name)
    allowed = hint if hint else f"a match for {shape.pattern}"
    return f"key {show(key)} is not allowed: keys must be {allowed}{_java_reading(key, shape)}"


def _java_reading(value: str, shape: StringShape) -> str:
    """Why a value that looks right breaks its pattern as SageMaker (Java) reads it.

    Said only when it is the whole reason: the value matches once its line breaks
    are gone, or once its digits are ASCII ones.
    """
    if shape.matcher is None:
        return ""
    line_break = LINE_TERMINATOR.search(value)
    if line_break and shape.matcher.fullmatch(LINE_TERMINATOR.sub("", value)):
        code = ord(line_break.group())
        return f"; it holds a line break (U+{code:04X}), and SageMaker takes none here"
    ascii_digits = "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char for char in value
    )
    if ascii_digits != value and shape.matcher.fullmatch(ascii_digits):
        return "; SageMaker takes only the ASCII digits 0-9 here"
    return ""


def int32(value: int) -> str:
    """An integer overflows the controller's int32."""
    return (
        f"{value} is above {INT32_MAX}: SageMaker takes this field as a 32-bit integer, "
        "and the ACK controller cannot send a larger one"
    )


def out_of_range(value: int, shape: IntShape) -> str:
    """An integer is out of range (of the model's bounds, else of its type's)."""
    low = shape.lowest if value < shape.lowest else shape.min
    high = shape.highest if value > shape.highest else shape.max
    return f"{value} is out of range; SageMaker allows {_bounds(low, high, '').strip()}"


def size(count: int, shape: ListShape | MapShape, noun: str) -> str:
    """A list or map has too few or too many entries."""
    plural = "entries" if noun == "entry" else f"{noun}s"
    have = f"{count} {noun if count == 1 else plural}"
    return f"has {have}; SageMaker allows {_bounds(shape.min, shape.max, plural)}"
