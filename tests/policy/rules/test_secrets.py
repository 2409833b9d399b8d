from __future__ import annotations

from typing import Any

import pytest

from webhook.paths import format_path
from webhook.policy.model import SecretsRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.secrets import compile_rule
from webhook.policy.subject import Subject
from webhook.request import Context

# Fake credentials are assembled at run time so that secret scanners do not flag this file.
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
RANDOM_40 = "q8Zr2Lm5Xv" + "T1bN7cK4pW" + "d9Hs3Fj6Yg" + "E0uA2oR8iQ"
GITHUB = "gh" + "p_" + "a1B2c3D4e5" * 4
GITHUB_PAT = "github" + "_pat_" + "11AAAAAAA0" + "abcdefghijklmnop_qrstuvwxyz"
SLACK = "xo" + "xb-" + "1234567890-abcdefABCDEF"
HUGGING_FACE = "hf" + "_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"
JWT = "ey" + "JhbGciOiJIUzI1NiJ9." + "ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N"
PEM = "-----BEGIN" + " RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA..."
ROLE_FIX = "remove it and grant the access to the job's execution role (roleARN) instead"
STORE_FIX = (
    "store it in AWS Secrets Manager and have the training code read it at run time "
    "with the execution role"
)


def visible(where: str) -> str:
    return f"values in {where} are visible to anyone who can describe the training job"


def run(job: dict[str, Any], **config: Any) -> list[tuple[str, str]]:
    rule = SecretsRule.model_validate({"id": "r", "kind": "secrets", **config})
    check = compile_rule(rule)
    return [
        (format_path(v.path), v.message)
        for v in check(Subject.of(job, Context(namespace="team-a")))
    ]


def test_ordinary_values_pass(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"].update(
        {
            "pad_token": "<pad>",
            "eos_token": "</s>",
            "max_tokens": "4096",
            "tokenizer": "meta-llama/Llama-2-7b-chat-hf",
            "model_name_or_path": "models/ResNet50/checkpoints/epoch10/best",
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "run_name": "ThisIsMyExperimentRunNumberFortyTwo12345",
            "use_auth_token": "true",
        }
    )
    job["spec"]["environment"] = {
        "LOG_LEVEL": "info",
        "DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
        "API_KEY": "arn:aws:ssm:us-east-1:123456789012:parameter/team-a/api-key",
        "SECRET_NAME": "team-a/db",
        "TOKEN_URL": "https://auth.example.com/oauth/token",
        "PASSWORD_FILE": "/run/secrets/db",
        "GITHUB_TOKEN": "",
        "DATABASE_URL": "postgres://app:${DB_PASSWORD}@db:5432/app",
        "MLFLOW_TRACKING_URI": "https://mlflow.example.com:5000/api",
    }
    assert run(job) == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "ACCESS",
            AWS_KEY_ID,
            f"value contains an AWS access key id, and {visible('environment')}: {ROLE_FIX}",
        ),
        (
            "CREDS",
            f"[default]\\naws_access_key_id={AWS_KEY_ID}",
            f"value contains an AWS access key id, and {visible('environment')}: {ROLE_FIX}",
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            AWS_SECRET,
            f"value looks like an AWS secret access key, and {visible('environment')}: {ROLE_FIX}",
        ),
        (
            "SOME_SETTING",
            RANDOM_40,
            f"value looks like an AWS secret access key, and {visible('environment')}: {ROLE_FIX}",
        ),
        ("SSH", PEM, f"value contains a private key, and {visible('environment')}: {STORE_FIX}"),
        ("GH", GITHUB, f"value contains a GitHub token, and {visible('environment')}: {STORE_FIX}"),
        (
            "GH2",
            GITHUB_PAT,
            f"value contains a GitHub token, and {visible('environment')}: {STORE_FIX}",
        ),
        (
            "NOTIFY",
            SLACK,
            f"value contains a Slack token, and {visible('environment')}: {STORE_FIX}",
        ),
        (
            "HUB",
            HUGGING_FACE,
            f"value contains a Hugging Face token, and {visible('environment')}: {STORE_FIX}",
        ),
        (
            "AUTH",
            JWT,
            f"value contains a JSON Web Token, and {visible('environment')}: {STORE_FIX}",
        ),
        (
            "HEADER",
            "Authorization: Bearer abcdefghijklmnop1234567890",
            f"value contains a bearer token, and {visible('environment')}: {STORE_FIX}",
        ),
        (
            "DATABASE_URL",
            "postgres://app:hunter2@db:5432/app",
            f"value contains a password inside a URL, and {visible('environment')}: {STORE_FIX}",
        ),
    ],
)
def test_credential_values(job: dict[str, Any], key: str, value: str, message: str) -> None:
    job["spec"]["environment"] = {key: value}
    assert run(job) == [(f"spec.environment[{key}]", message)]


KEY_HINT = "; if it holds no secret, add the key to the rule's allowKeys"


@pytest.mark.parametrize(
    ("key", "value", "held"),
    [
        ("DB_PASSWORD", "hunter2", "a password"),
        ("dbPasswd", "1234", "a password"),
        ("CLIENT_SECRET", "abc", "a secret"),
        ("WANDB_API_KEY", "0123456789abcdef", "an API key"),
        ("apiKey", "k", "an API key"),
        ("PRIVATE_KEY", "some key", "a private key"),
        ("GOOGLE_APPLICATION_CREDENTIALS_JSON", "{}", "credentials"),
        ("HF_TOKEN", "abcdef1234567890abcd", "a token"),
        ("authToken", "Zm9vYmFyYmF6cXV4MTIz", "a token"),
    ],
)
def test_password_like_keys(job: dict[str, Any], key: str, value: str, held: str) -> None:
    job["spec"]["environment"] = {key: value}
    job["spec"]["hyperParameters"] = {key: value}
    assert run(job) == [
        (
            f"spec.hyperParameters[{key}]",
            f'"{key}" names {held} and has a value, and {visible("hyperParameters")}: '
            f"{STORE_FIX}{KEY_HINT}",
        ),
        (
            f"spec.environment[{key}]",
            f'"{key}" names {held} and has a value, and {visible("environment")}: '
            f"{STORE_FIX}{KEY_HINT}",
        ),
    ]


@pytest.mark.parametrize("value", ["<pad>", "[PAD]", "512", "short1", "has spaces in it 12345"])
def test_token_keys_need_a_token_like_value(job: dict[str, Any], value: str) -> None:
    job["spec"]["environment"] = {"pad_token": value, "TOKEN": value}
    assert run(job) == []


def test_messages_never_show_the_value(job: dict[str, Any]) -> None:
    values = [AWS_KEY_ID, AWS_SECRET, RANDOM_40, GITHUB, SLACK, HUGGING_FACE, JWT, PEM, "hunter2"]
    # Every value is flagged once: AWS_8's "hunter2" is not (no pattern, no password-like
    # name) but AWS_9_PASSWORD's is.
    job["spec"]["environment"] = {f"AWS_{i}": v for i, v in enumerate(values)}
    job["spec"]["environment"]["AWS_9_PASSWORD"] = "hunter2"
    found = run(job)
    assert [path for path, _ in found] == [
        f"spec.environment[AWS_{i}]" for i in (0, 1, 2, 3, 4, 5, 6, 7)
    ] + ["spec.environment[AWS_9_PASSWORD]"]
    for _, message in found:
        for value in values:
            assert value not in message
            assert value[:8] not in message


def test_allow_keys_and_maps(job: dict[str, Any]) -> None:
    job["spec"]["environment"] = {"DB_PASSWORD": "x", "team-a_TOKEN_SECRET": "y"}
    job["spec"]["hyperParameters"] = {"api_key": "z"}
    assert run(job, maps=["environment"], allowKeys=["DB_*", "{namespace}_*"]) == []
    assert [path for path, _ in run(job, allowKeys=["DB_*"])] == [
        "spec.hyperParameters[api_key]",
        "spec.environment[team-a_TOKEN_SECRET]",
    ]


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"maps": []}, "maps", "is empty: the rule would check nothing; list a map or drop it"),
        (
            {"allowKeys": ["DB_*", "**"]},
            "allowKeys",
            '"**" allows every key: the rule would check nothing',
        ),
    ],
)
def test_bad_configuration(config: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(SecretsRule.model_validate({"id": "r", "kind": "secrets", **config}))
    assert (raised.value.field, raised.value.message) == (field, message)


@pytest.mark.parametrize(
    "spec",
    [
        {"environment": "PASSWORD=x", "hyperParameters": ["api_key"]},
        {"environment": {"PASSWORD": 1234, 5: AWS_KEY_ID, "TOKEN": None}, "hyperParameters": None},
    ],
)
def test_odd_input_is_left_to_the_type_check(job: dict[str, Any], spec: dict[str, Any]) -> None:
    job["spec"].update(spec)
    assert run(job) == []


def test_long_values_are_scanned_quickly(job: dict[str, Any]) -> None:
    job["spec"]["environment"] = {"BLOB": "a" * 200_000 + "://" * 1000, "X": "eyJ" * 50_000}
    assert run(job) == []
