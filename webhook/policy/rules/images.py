"""Rule kind ``images``: where the code a job runs comes from, and pinning.

The images are every image field of the spec, found from the typed model
(:mod:`webhook.model.concepts`): ``spec.algorithmSpecification.trainingImage``
and the ``ruleEvaluatorImage`` of every ``debugRuleConfigurations`` and
``profilerRuleConfigurations`` entry. Each is parsed the way Docker does
(:func:`parse_image`, after ``github.com/distribution/reference``'s grammar and its
``ParseNormalizedNamed``):

* ``registries``: globs on the registry host (``*.dkr.ecr.*.amazonaws.com``);
* ``repositories``: globs on ``registry/repository``, without tag or digest;
* ``forbidLatest``: the tag ``latest`` is denied;
* ``requireTag``: an image with neither tag nor digest is denied (it resolves to latest);
* ``requireDigest``: an image must be pinned by ``@<algorithm>:<hex>``;
* ``algorithms``: globs on ``algorithmSpecification.algorithmName`` (a name or an
  ARN). A job may name an algorithm resource instead of an image, and the image
  behind it (possibly in another account) is not in the job: the rule cannot
  vouch for it, so an algorithm is reported unless it matches ``algorithms``,
  whatever the rule's other options (a rule that only wants tags cannot see the
  algorithm's tag either).

Choices:

* References are normalized as Docker does, so a rule cannot be sidestepped by
  spelling: ``ubuntu``, ``docker.io/ubuntu`` and ``index.docker.io/library/ubuntu`` are
  all ``docker.io/library/ubuntu``. Registry host names are compared in lower case
  (DNS is case-insensitive).
* An image pinned by digest runs that digest whatever its tag says, so ``name:latest@sha256:..``
  passes ``forbidLatest``. An untagged image without digest resolves to ``latest``, so
  ``forbidLatest`` denies it too.
* One pinning violation per image: when ``requireDigest`` fails, the tag checks say
  nothing more (adding the digest fixes both).
* A value that is not a valid reference is denied (nothing can be said about where it
  comes from); an empty or non-string value is skipped (other rules require fields).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final, NamedTuple

from webhook.model.concepts import Concept, concept_values, fields, schema_at
from webhook.native import Schema, anchored, on_spec
from webhook.paths import Path
from webhook.policy.globs import Globs, native_regex
from webhook.policy.model import ImagesRule
from webhook.policy.rules import Check, Violation
from webhook.policy.subject import Subject
from webhook.text import show

DEFAULT_REGISTRY: Final = "docker.io"
LEGACY_DEFAULT_REGISTRY: Final = "index.docker.io"
OFFICIAL_REPOSITORY_PREFIX: Final = "library/"
NAME_MAX: Final = 255
"""Longest repository name (registry included) Docker accepts."""

# The grammar of github.com/distribution/reference (regexp.go).
_ALPHANUMERIC: Final = r"[a-z0-9]+"
_SEPARATOR: Final = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT: Final = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_COMPONENT: Final = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME: Final = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6: Final = r"\[[a-fA-F0-9:]+\]"
_DOMAIN: Final = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG: Final = r"[\w][\w.-]{0,127}"
_DIGEST: Final = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME: Final = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE: Final = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)
#: The digest algorithms go-digest accepts, with their hex lengths (lower-case hex only).
_DIGEST_HEX: Final = {"sha256": 64, "sha384": 96, "sha512": 128}


class ImageRef(NamedTuple):
    """A parsed, normalized image reference."""

    registry: str
    """Registry host (and port), lower case: ``docker.io``, ``localhost:5000``."""
    repository: str
    """Path in the registry: ``library/ubuntu``, ``sagemaker-xgboost``."""
    tag: str | None
    digest: str | None
    """``<algorithm>:<hex>``."""

    @property
    def name(self) -> str:
        """``registry/repository``, what ``repositories`` globs match."""
        return f"{self.registry}/{self.repository}"


@functools.lru_cache(maxsize=1024)
def parse_image(reference: str) -> ImageRef | None:
    """Parse an image reference as Docker does; None when it is not a valid one."""
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        return None
    name, tag, digest = match["name"], match["tag"], match["digest"]
    if len(name) > NAME_MAX:
        return None
    if digest is not None:
        algorithm, _, hexa = digest.partition(":")
        if len(hexa) != _DIGEST_HEX.get(algorithm) or hexa != hexa.lower():
            return None
    # splitDockerDomain: the first component is a registry when it looks like a host.
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, repository = first.lower(), rest
    else:
        registry, repository = DEFAULT_REGISTRY, name
    if registry == LEGACY_DEFAULT_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in repository:
        repository = OFFICIAL_REPOSITORY_PREFIX + repository
    return ImageRef(registry, repository, tag, digest)


def images(spec: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Every image of *spec* (non-empty strings) with its path."""
    for path, image in concept_values(spec, Concept.IMAGE):
        if isinstance(image, str) and image:
            yield path, image


def algorithms(spec: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """Every algorithm resource *spec* names (non-empty strings) with its path."""
    for path, name in concept_values(spec, Concept.ALGORITHM):
        if isinstance(name, str) and name:
            yield path, name


def compile_rule(rule: ImagesRule) -> Check:
    """Compile an ``images`` rule into a check."""
    registries = Globs(rule.registries) if rule.registries is not None else None
    repositories = Globs(rule.repositories) if rule.repositories is not None else None
    allowed_algorithms = Globs(rule.algorithms or ())

    def allowed(globs: Globs, subject: Subject) -> str:
        return globs.describe(subject) if globs else "none"

    def check(subject: Subject) -> Iterator[Violation]:
        for path, name in algorithms(subject.spec):
            if not allowed_algorithms.matches(name, subject):
                yield Violation(
                    path,
                    f"{show(name)} is an algorithm resource, whose image this rule cannot "
                    "check; name an allowed trainingImage instead, or list the algorithm in the "
                    f"rule's algorithms (allowed: {allowed(allowed_algorithms, subject)})",
                )
        for path, image in images(subject.spec):
            ref = parse_image(image)
            if ref is None:
                yield Violation(
                    path,
                    f"{show(image)} is not a valid image reference; expected "
                    "registry/repository[:tag][@sha256:digest] in lower case",
                )
                continue
            if registries is not None and not registries.matches(ref.registry, subject):
                yield Violation(
                    path,
                    f"{show(image)} comes from registry {ref.registry}, which is not allowed; "
                    f"allowed registries: {allowed(registries, subject)}",
                )
            if repositories is not None and not repositories.matches(ref.name, subject):
                yield Violation(
                    path,
                    f"{show(image)} is repository {ref.name}, which is not allowed; "
                    f"allowed repositories: {allowed(repositories, subject)}",
                )
            if ref.digest is None:
                unpinned = _unpinned(rule, image, ref)
                if unpinned is not None:
                    yield Violation(path, unpinned)

    return check


def _unpinned(rule: ImagesRule, image: str, ref: ImageRef) -> str | None:
    """The pinning message for *image*, which has no digest, if *rule* asks for more.

    One message at most: when ``requireDigest`` fails, the tag checks say nothing more.
    """
    if rule.requireDigest:
        return (
            f"{show(image)} is not pinned by digest; add @sha256:<digest> so the job "
            "runs exactly the image that was reviewed"
        )
    if ref.tag is None and (rule.requireTag or rule.forbidLatest):
        return (
            f"{show(image)} has neither tag nor digest, so it resolves to latest, which "
            "can change under a job; pin a version tag or a digest"
        )
    if ref.tag == "latest" and rule.forbidLatest:
        return (
            f"{show(image)} uses the tag latest, which can change under a job; "
            "pin a version tag or a digest"
        )
    return None


# The grammar above for jsonschema-rs, without a port or an IPv6 registry, whose ':'
# would make the name's length unclear to a regex: such images stay with the Python check.
_NATIVE_NAME: Final = rf"(?:{_DOMAIN_NAME}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NATIVE_DIGEST: Final = "@sha256:[0-9a-f]{64}"


def native_schema(rule: ImagesRule) -> Schema | None:
    """A job this rule finds nothing in (:mod:`webhook.native`).

    None with registry or repository globs (their match needs Docker's
    normalization) or templated algorithm globs. Stricter than the check: no
    port in the registry, only sha256 digests, the whole reference within the
    name's 255 characters, and with ``forbidLatest`` the tag ``latest`` even
    beside a digest.
    """
    if rule.registries is not None or rule.repositories is not None:
        return None
    algorithm: Schema = {"type": "null"}
    if rule.algorithms:
        names = native_regex(rule.algorithms)
        if names is None:
            return None
        algorithm = {"pattern": names}
    name = _NATIVE_NAME
    if rule.requireDigest:
        reference = rf"{name}(?::{_TAG})?{_NATIVE_DIGEST}"
    elif rule.requireTag or rule.forbidLatest:
        reference = rf"{name}(?::{_TAG}(?:{_NATIVE_DIGEST})?|{_NATIVE_DIGEST})"
    else:
        reference = rf"{name}(?::{_TAG})?(?:{_NATIVE_DIGEST})?"
    # The whole reference within the name's limit; plain regexes (no look-around) stay
    # on jsonschema-rs's fast engine.
    image: Schema = {"pattern": anchored(reference), "maxLength": NAME_MAX}
    if rule.forbidLatest:
        image["not"] = {"pattern": ":latest(@|$)"}
    parts = [schema_at(field.pattern, image) for field in fields(Concept.IMAGE)]
    parts.extend(schema_at(field.pattern, algorithm) for field in fields(Concept.ALGORITHM))
    return on_spec(*parts)
