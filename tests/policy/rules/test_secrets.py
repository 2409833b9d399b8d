from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from tests.policy.rules import violations
from webhook.paths import format_path
from webhook.policy.globs import Globs
from webhook.policy.model import SecretsRule
from webhook.policy.rules import RuleConfigError, credentials, secrets
from webhook.policy.rules.secrets import compile_rule
from webhook.policy.subject import Subject
from webhook.request import Context

# Fake credentials are assembled at run time so that secret scanners do not flag this file.
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
TEMPORARY_KEY_ID = "ASIA" + "Q3EGUWU7M5EXAMPL"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
RANDOM_40 = "q8Zr2Lm5Xv" + "T1bN7cK4pW" + "d9Hs3Fj6Yg" + "E0uA2oR8iQ"
GITHUB = "gh" + "p_" + "a1B2c3D4e5" * 4
GITHUB_PAT = "github" + "_pat_" + "11AAAAAAA0" + "abcdefghijklmnop_qrstuvwxyz"
SLACK = "xo" + "xb-" + "1234567890-abcdefABCDEF"
HUGGING_FACE = "hf" + "_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"
JWT = "ey" + "JhbGciOiJIUzI1NiJ9." + "ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0." + "dozjgNryP4J3jVmNHl0w5N"
PEM = "-----BEGIN" + " RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA..."
BEARER = "Authorization: " + "Bearer abcdefghijklmnop1234567890"
URL_PASSWORD = "postgres://app:" + "hunter2@db:5432/app"
ROLE_FIX = "remove it and grant the access to the job's execution role (roleARN) instead"
STORE_FIX = (
    "store it in AWS Secrets Manager and have the training code read it at run time "
    "with the execution role"
)
KEY_HINT = "; if it holds no secret, add the key to the rule's allowKeys"

#: What a message says each kind of the table is, and its fix.
KINDS = {
    "aws_key": ("contains an AWS access key id", ROLE_FIX),
    "private_key": ("contains a private key", STORE_FIX),
    "github": ("contains a GitHub token", STORE_FIX),
    "slack": ("contains a Slack token", STORE_FIX),
    "huggingface": ("contains a Hugging Face token", STORE_FIX),
    "jwt": ("contains a JSON Web Token", STORE_FIX),
    "bearer": ("contains a bearer token", STORE_FIX),
    "url": ("contains a password inside a URL", STORE_FIX),
}
#: An example of every way the table writes a credential, by the form's start: a test
#: fails until a form added to the table has one here (and with it, every test below).
EXAMPLES = {
    "AKIA": ("aws_key", AWS_KEY_ID),
    "ASIA": ("aws_key", TEMPORARY_KEY_ID),
    "ABIA": ("aws_key", "ABIA" + "IOSFODNN7EXAMPLE"),
    "ACCA": ("aws_key", "ACCA" + "IOSFODNN7EXAMPLE"),
    "-----BEGIN": ("private_key", PEM),
    "gh[pousr]_": ("github", GITHUB),
    "github_pat_": ("github", GITHUB_PAT),
    "xox[baprs]-": ("slack", SLACK),
    "hf_": ("huggingface", HUGGING_FACE),
    "eyJ": ("jwt", JWT),
    "[Bb][Ee][Aa][Rr][Ee][Rr]": ("bearer", BEARER),
    "://": ("url", URL_PASSWORD),
}
EXAMPLE_IDS = [value for _, value in EXAMPLES.values()]
#: No path or message of any test here shows any of these, or their first 8 characters.
NEVER_SHOWN = [*EXAMPLE_IDS, AWS_SECRET, RANDOM_40, "hunter2"]


def visible(where: str, what: str = "values") -> str:
    return f"{what} in {where} are visible to anyone who can describe the training job"


def value_message(kind: str, where: str, *, encoded: bool = False) -> str:
    what, fix = KINDS[kind]
    return f"value {what}{' (base64-encoded)' if encoded else ''}, and {visible(where)}: {fix}"


def key_message(key: str, held: str, where: str) -> str:
    return f'"{key}" names {held}, and {visible(where)}: {STORE_FIX}{KEY_HINT}'


def run(job: dict[str, Any], **config: Any) -> list[tuple[str, str]]:
    """The findings of a secrets rule, as (path, message).

    Also holds the rule to its two shortcuts: its native schema holds only on a job
    it finds nothing in (:func:`tests.policy.rules.violations`), and the quick look
    at the whole spec never changes what the exact walk finds.
    """
    rule = SecretsRule.model_validate({"id": "r", "kind": "secrets", **config})
    context = Context(namespace="team-a")
    found = violations(rule, job, context)
    subject = Subject.of(job, context)
    assert list(secrets.ExactWalk(Globs(rule.allowKeys), subject)(subject.spec)) == found
    shown = [(format_path(violation.path), violation.message) for violation in found]
    for path, message in shown:
        for secret in NEVER_SHOWN:
            assert secret[:8] not in path
            assert secret[:8] not in message
    return shown


def b64(text: str, lead: str = "") -> str:
    return base64.b64encode((lead + text).encode()).decode()


def b64url(text: str, lead: str = "") -> str:
    return base64.urlsafe_b64encode((lead + text).encode()).decode().rstrip("=")


def test_every_form_of_the_table_has_an_example() -> None:
    assert {form.start for _, form, _ in credentials.FORMS} == set(EXAMPLES)
    assert set(credentials.CREDENTIALS) == set(KINDS)
    for kind, (what, fix, _) in credentials.CREDENTIALS.items():
        assert (what, fix) == KINDS[kind]
    for start, (kind, _) in EXAMPLES.items():
        assert any(form.start == start for form in credentials.CREDENTIALS[kind].forms)


# -- where: every string of the spec -----------------------------------------------------


def _tag(spec: dict[str, Any], value: str) -> str:
    spec["tags"].append({"key": "owner", "value": value})
    return "spec.tags[1].value"


def _hook(spec: dict[str, Any], value: str) -> str:
    spec["debugHookConfig"] = {"s3OutputPath": "s3://b/x/", "hookParameters": {"note": value}}
    return "spec.debugHookConfig.hookParameters[note]"


def _collection(spec: dict[str, Any], value: str) -> str:
    spec["debugHookConfig"] = {
        "collectionConfigurations": [
            {"collectionName": "losses", "collectionParameters": {"note": value}}
        ]
    }
    return "spec.debugHookConfig.collectionConfigurations[0].collectionParameters[note]"


def _debug_rule(spec: dict[str, Any], value: str) -> str:
    spec["debugRuleConfigurations"] = [
        {"ruleConfigurationName": "r", "ruleParameters": {"rule_to_invoke": "x", "note": value}}
    ]
    return "spec.debugRuleConfigurations[0].ruleParameters[note]"


def _profiler_rule(spec: dict[str, Any], value: str) -> str:
    spec["profilerRuleConfigurations"] = [
        {"ruleConfigurationName": "p", "ruleParameters": {"note": value}}
    ]
    return "spec.profilerRuleConfigurations[0].ruleParameters[note]"


def _profiling(spec: dict[str, Any], value: str) -> str:
    spec["profilerConfig"] = {"profilingParameters": {"note": value}}
    return "spec.profilerConfig.profilingParameters[note]"


def _experiment(spec: dict[str, Any], value: str) -> str:
    spec["experimentConfig"] = {"experimentName": value}
    return "spec.experimentConfig.experimentName"


def _metric(spec: dict[str, Any], value: str) -> str:
    spec["algorithmSpecification"]["metricDefinitions"] = [{"name": "loss", "regex": value}]
    return "spec.algorithmSpecification.metricDefinitions[0].regex"


def _subnet(spec: dict[str, Any], value: str) -> str:
    spec["vpcConfig"]["subnets"].append(value)
    return "spec.vpcConfig.subnets[1]"


def _job_name(spec: dict[str, Any], value: str) -> str:
    spec["trainingJobName"] = value
    return "spec.trainingJobName"


def _environment(spec: dict[str, Any], value: str) -> str:
    spec["environment"] = {"NOTE": value}
    return "spec.environment[NOTE]"


def _future(spec: dict[str, Any], value: str) -> str:
    """A field the CRD does not have (yet), nested in lists and objects."""
    spec["futureConfig"] = {"stages": [{"options": {"extra": [value]}}]}
    return "spec.futureConfig.stages[0].options.extra[0]"


FIELDS: list[Callable[[dict[str, Any], str], str]] = [
    _tag,
    _hook,
    _collection,
    _debug_rule,
    _profiler_rule,
    _profiling,
    _experiment,
    _metric,
    _subnet,
    _job_name,
    _environment,
    _future,
]


@pytest.mark.parametrize("put", FIELDS, ids=[put.__name__.strip("_") for put in FIELDS])
@pytest.mark.parametrize("value", [TEMPORARY_KEY_ID, b64(AWS_KEY_ID)], ids=["clear", "base64"])
def test_every_string_of_the_spec_is_scanned(
    job: dict[str, Any], put: Callable[[dict[str, Any], str], str], value: str
) -> None:
    where = put(job["spec"], value)
    field = where.split(".")[1].split("[")[0]
    encoded = value != TEMPORARY_KEY_ID
    assert run(job) == [(where, value_message("aws_key", field, encoded=encoded))]


def test_a_credential_in_a_map_key_is_reported_at_the_map(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"][AWS_KEY_ID] = "1"
    job["spec"]["environment"] = {"X": "1", b64(GITHUB): {"deeper": AWS_KEY_ID}}
    found = run(job)
    assert found == [
        (
            "spec.hyperParameters",
            f"a key {KINDS['aws_key'][0]}, and {visible('hyperParameters', 'keys')}: {ROLE_FIX}",
        ),
        (
            "spec.environment",
            f"a key {KINDS['github'][0]} (base64-encoded), and {visible('environment', 'keys')}: "
            f"{STORE_FIX}",
        ),
    ]
    for path, message in found:
        for shown in (AWS_KEY_ID, b64(GITHUB), AWS_KEY_ID[:8], b64(GITHUB)[:8]):
            assert shown not in path
            assert shown not in message


def test_a_credential_in_a_key_of_the_spec_itself(job: dict[str, Any]) -> None:
    job["spec"][AWS_KEY_ID] = {"x": "y"}
    job["spec"][b64(SLACK)] = "z"
    assert run(job) == [
        ("spec", f"a key {KINDS['aws_key'][0]}, and {visible('spec', 'keys')}: {ROLE_FIX}"),
        (
            "spec",
            f"a key {KINDS['slack'][0]} (base64-encoded), and {visible('spec', 'keys')}: "
            f"{STORE_FIX}",
        ),
    ]


def test_metadata_is_not_scanned(job: dict[str, Any]) -> None:
    job["metadata"]["annotations"] = {"note": AWS_KEY_ID}
    job["metadata"]["labels"] = {"password": "hunter2"}
    assert run(job) == []


# -- what: every kind of the table, every AWS prefix, every evasion ----------------------


@pytest.mark.parametrize(("kind", "value"), EXAMPLES.values(), ids=list(EXAMPLES))
def test_every_credential_kind(job: dict[str, Any], kind: str, value: str) -> None:
    job["spec"]["environment"] = {"NOTE": value, "LINE": f"[default]\\nx={value}"}
    message = value_message(kind, "environment")
    assert run(job) == [("spec.environment[NOTE]", message), ("spec.environment[LINE]", message)]


@pytest.mark.parametrize(("kind", "value"), EXAMPLES.values(), ids=list(EXAMPLES))
@pytest.mark.parametrize("lead", ["", "{", '{"'], ids=["aligned", "after-1", "after-2"])
@pytest.mark.parametrize("encode", [b64, b64url], ids=["base64", "base64url"])
def test_every_credential_kind_base64_encoded(
    job: dict[str, Any], kind: str, value: str, lead: str, encode: Callable[[str, str], str]
) -> None:
    """At each of the three byte alignments, in both alphabets, padded or not."""
    job["spec"]["environment"] = {"NOTE": encode(value, lead), "QUOTED": f"x={encode(value, lead)}"}
    message = value_message(kind, "environment", encoded=True)
    assert run(job) == [("spec.environment[NOTE]", message), ("spec.environment[QUOTED]", message)]


def test_a_base64_run_is_decoded_at_each_offset(job: dict[str, Any]) -> None:
    """Characters of the base64 alphabet before the encoded text shift it: each is tried."""
    for prefix in ("a", "ab", "abc", "key-", "token_"):
        job["spec"]["environment"] = {"NOTE": prefix + b64url(AWS_KEY_ID, "\n")}
        assert run(job) == [
            ("spec.environment[NOTE]", value_message("aws_key", "environment", encoded=True))
        ], prefix


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize("prefix", ["AKIA", "ASIA", "ABIA", "ACCA"])
@pytest.mark.parametrize(
    ("disguise", "encoded"),
    [
        (lambda key: key, False),
        (lambda key: f"{key[:2]}\u200b{key[2:]}", False),  # zero-width space
        (lambda key: f"{key[:4]}\u2060{key[4:10]}\u00ad{key[10:]}", False),  # joiner, soft hyphen
        (lambda key: f"\ufeff{key}\u200d", False),  # byte order mark, zero-width joiner
        (lambda key: _fullwidth(key[:4]) + key[4:], False),
        (b64, True),
        (lambda key: b64url(key, "\x00\x01"), True),
    ],
    ids=["clear", "zero-width", "joiners", "bom", "fullwidth", "base64", "base64url"],
)
def test_every_aws_prefix_and_evasion(
    job: dict[str, Any], prefix: str, disguise: Callable[[str], str], *, encoded: bool
) -> None:
    value = disguise(prefix + "IOSFODNN7EXAMPLE")
    job["spec"]["tags"].append({"key": "cost-center", "value": value})
    assert run(job) == [("spec.tags[1].value", value_message("aws_key", "tags", encoded=encoded))]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
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
        (
            "SOME_SETTING",
            f" \u200b{RANDOM_40}\n",
            f"value looks like an AWS secret access key, and {visible('environment')}: {ROLE_FIX}",
        ),
    ],
)
def test_aws_secret_heuristic(job: dict[str, Any], key: str, value: str, message: str) -> None:
    job["spec"]["environment"] = {key: value}
    assert run(job) == [(f"spec.environment[{key}]", message)]


# -- key names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "held"),
    [
        ("DB_PASSWORD", "hunter2", "a password and has a value"),
        ("dbPasswd", "1234", "a password and has a value"),
        ("CLIENT_SECRET", "abc", "a secret and has a value"),
        ("WANDB_API_KEY", "0123456789abcdef", "an API key and has a value"),
        ("apiKey", "k", "an API key and has a value"),
        ("PRIVATE_KEY", "some key", "a private key and has a value"),
        ("GOOGLE_APPLICATION_CREDENTIALS_JSON", "{}", "credentials and has a value"),
        ("HF_TOKEN", "abcdef1234567890abcd", "a token and has a value"),
        ("authToken", "Zm9vYmFyYmF6cXV4MTIz", "a token and has a value"),
        ("DB_PASS", "hunter2", "a password and has a value"),
        ("db_pwd", "hunter2", "a password and has a value"),
        ("PW", "hunter2", "a password and has a value"),
        ("smtpPass", "letmein", "a password and has a value"),
        ("SSH_PASSPHRASE", "correct horse", "a passphrase and has a value"),
        ("keyPassphrase", "42", "a passphrase and has a value"),
        ("DB_PASSWORD_FILE", "hunter2", "a password and has a value that is not a path"),
        ("SECRET_PATH", "hunter2", "a secret and has a value that is not a path"),
        ("TOKEN_URL", "abcdef1234567890abcd", "a token and has a value that is not a URL"),
        ("API_KEY_ARN", "hunter2", "an API key and has a value that is not an ARN"),
        ("SECRET_REGION", "hunter2", "a secret and has a value that is not a region"),
        ("PASSWORD_LENGTH", "hunter2", "a password and has a value that is not a number"),
        ("SECRET_VERSION", "hunter2", "a secret and has a value that is not a version"),
        ("API_KEY_HEADER", "hunter2", "an API key and has a value that is not a header name"),
        ("SECRET_BUCKET", "Hunter2!", "a secret and has a value that is not a bucket"),
    ],
)
def test_password_like_keys(job: dict[str, Any], key: str, value: str, held: str) -> None:
    job["spec"]["environment"] = {key: value}
    job["spec"]["hyperParameters"] = {key: value}
    job["spec"]["tags"].append({"key": key, "value": value})
    assert run(job) == [  # in the document's order: environment was added last
        (f"spec.hyperParameters[{key}]", key_message(key, held, "hyperParameters")),
        ("spec.tags[1].value", key_message(key, held, "tags")),
        (f"spec.environment[{key}]", key_message(key, held, "environment")),
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("pad_token", "<pad>"),
        ("eos_token", "</s>"),
        ("max_tokens", "4096"),
        ("tokenizer", "meta-llama/Llama-2-7b-chat-hf"),
        ("use_auth_token", "true"),
        ("GITHUB_TOKEN", ""),
        ("TOKEN", "short1"),
        ("TOKEN", "has spaces in it 12345"),
        ("bypass", "cache"),
        ("num_passes", "3"),
        ("passes", "many"),
        ("compass", "north"),
        ("pass", "2"),
        ("second_pass", "true"),
        ("USE_PASS", "off"),
        ("pw", "1e-3"),
        ("PWD", "/opt/ml/code"),
        ("OLDPWD", "/root"),
        ("DB_PASSWORD", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"),
        ("API_KEY", "arn:aws:ssm:us-east-1:123456789012:parameter/team-a/api-key"),
        ("SECRET_NAME", "team-a/db"),
        ("SECRET_ID", "hunter2"),  # names have no shape: a reference whatever the value
        ("TOKEN_URL", "https://auth.example.com/oauth/token"),
        ("TOKEN_ENDPOINT", "https://auth.example.com/oauth/token"),
        ("PASSWORD_FILE", "/run/secrets/db"),
        ("PASSWORD_FILE", "./db.pass"),
        ("SECRET_DIR", "~/secrets"),
        ("SECRET_LOCATION", "s3://ml-team-a/secrets/db"),
        ("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"),
        ("SECRETS_MANAGER_REGION", "us-gov-west-1"),
        ("TOKEN_TTL", "3600"),
        ("TOKEN_TTL", "15 min"),
        ("PASSWORD_MIN_LENGTH", "12"),
        ("API_KEY_VERSION", "v2.1"),
        ("API_KEY_HEADER", "X-Api-Key"),
        ("SECRET_BUCKET", "ml-team-a-secrets"),
        ("SECRET_TYPE", "hunter2"),
        ("SECRET_MODE", "rotate"),
        ("SECRET_PREFIX", "team-a/"),
        ("SECRET_PARAM", "/team-a/db"),
    ],
)
def test_keys_that_are_no_secret(job: dict[str, Any], key: str, value: str) -> None:
    job["spec"]["environment"] = {key: value}
    job["spec"]["tags"].append({"key": key, "value": value})
    assert run(job) == []


def test_messages_never_show_the_value(job: dict[str, Any]) -> None:
    values = [
        *EXAMPLE_IDS,
        AWS_SECRET,
        RANDOM_40,
        b64(AWS_KEY_ID),
        f"AK\u200bIA{AWS_KEY_ID[4:]}",
        "hunter2",
    ]
    # "hunter2" is flagged only under AWS_PASSWORD (no pattern, no password-like name).
    job["spec"]["environment"] = {f"AWS_{i}": v for i, v in enumerate(values)}
    job["spec"]["environment"]["AWS_PASSWORD"] = "hunter2"
    job["spec"]["tags"] = [{"key": "AWS_PASSWORD", "value": value} for value in values]
    found = run(job)
    assert len(found) == 2 * len(values)  # every value but AWS_{n}'s "hunter2", twice
    for path, message in found:
        for value in values:
            assert value not in message
            assert value[:8] not in message
            assert value not in path


# -- allowKeys, the ignored maps option, configuration ------------------------------------


def test_allow_keys(job: dict[str, Any]) -> None:
    job["spec"]["environment"] = {"DB_PASSWORD": "x", "team-a_TOKEN_SECRET": "y", "HF_X": GITHUB}
    job["spec"]["hyperParameters"] = {"api_key": "z"}
    job["spec"]["tags"].append({"key": "HF_OWNER", "value": AWS_KEY_ID})
    job["spec"]["algorithmSpecification"]["containerArguments"] = ["--token", HUGGING_FACE]
    allow = ["DB_*", "{namespace}_*", "HF_*", "api_key", "containerArguments"]
    assert run(job, allowKeys=allow) == []
    assert [path for path, _ in run(job, allowKeys=["DB_*"])] == [
        "spec.algorithmSpecification.containerArguments[1]",
        "spec.hyperParameters[api_key]",
        "spec.tags[1].value",
        "spec.environment[team-a_TOKEN_SECRET]",
        "spec.environment[HF_X]",
    ]


def test_allow_keys_skip_an_entry_key_and_value(job: dict[str, Any]) -> None:
    """An allowed key's string value is not looked at, nor the key; an object or a list
    under it is (its own keys decide), and the key too, since paths under it show it."""
    job["spec"]["environment"] = {AWS_KEY_ID: "x"}
    job["spec"]["futureConfig"] = {AWS_KEY_ID: {"a": "b"}, "HF_LIST": [{"PASSWORD": "x"}]}
    assert run(job, allowKeys=["AKIA*", "HF_*"]) == [
        (
            "spec.futureConfig",
            f"a key {KINDS['aws_key'][0]}, and {visible('futureConfig', 'keys')}: {ROLE_FIX}",
        ),
        (
            "spec.futureConfig.HF_LIST[0].PASSWORD",
            key_message("PASSWORD", "a password and has a value", "futureConfig"),
        ),
    ]


def test_the_maps_option_cannot_narrow_the_scan(job: dict[str, Any]) -> None:
    """Accepted for old policy files, and ignored: every string is scanned."""
    job["spec"]["hyperParameters"]["db_password"] = "hunter2"
    job["spec"]["tags"].append({"key": "k", "value": AWS_KEY_ID})
    expected = ["spec.hyperParameters[db_password]", "spec.tags[1].value"]
    for maps in ([], ["environment"], ["hyperParameters", "environment"]):
        assert [path for path, _ in run(job, maps=maps)] == expected


def test_bad_configuration() -> None:
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(
            SecretsRule.model_validate({"id": "r", "kind": "secrets", "allowKeys": ["**"]})
        )
    assert (raised.value.field, raised.value.message) == (
        "allowKeys",
        '"**" allows every key: the rule would check nothing',
    )


# -- what stays clean -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "s3://ml-team-a/churn/train/",
        "s3://ml-team-a/a/very/long/prefix/that/goes/on/and/on/data/",
        "s3://ml-team-a/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        "arn:aws:iam::123456789012:role/team-a-sagemaker-execution",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-a/db-AbCdEf",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "ghcr.io/huggingface/text-generation-inference:2.0@sha256:" + "a1" * 32,
        "meta-llama/Llama-2-7b-chat-hf",
        "0123456789abcdef0123456789abcdef01234567",
        "ThisIsMyExperimentRunNumberFortyTwo12345",
        "models/ResNet50/checkpoints/epoch10/best",
        "postgres://app:${DB_PASSWORD}@db:5432/app",
        "https://mlflow.example.com:5000/api",
        "train_loss: ([0-9\\.]+)",
        "subnet-0a1b2c3d4e5f60718",
        b64("hello, this is a harmless sentence"),
        b64url('{"learning_rate": 0.001, "epochs": 10}'),
        "caf\u00e9 cr\u00e8me",
        "",
        "   ",
    ],
)
def test_ordinary_values_pass(job: dict[str, Any], value: str) -> None:
    for put in FIELDS:
        put(job["spec"], value)
    job["spec"]["hyperParameters"]["value"] = value
    assert run(job) == []


@pytest.mark.parametrize(
    "spec",
    [
        {"environment": "PASSWORD=x", "hyperParameters": ["api_key"]},
        {
            "environment": {"PASSWORD": 1234, "TOKEN": None, "API_KEY": True},
            "hyperParameters": None,
        },
        {"environment": {"PASSWORD": {"nested": "no string value"}}},
    ],
)
def test_values_that_are_no_string_hold_no_secret(
    job: dict[str, Any], spec: dict[str, Any]
) -> None:
    job["spec"].update(spec)
    assert run(job) == []


def test_a_key_of_another_type_does_not_hide_its_value(job: dict[str, Any]) -> None:
    """The CRD's type check reports the key; a credential under it is still one."""
    job["spec"]["environment"] = {5: AWS_KEY_ID, 6: "x"}
    assert run(job) == [("spec.environment[5]", value_message("aws_key", "environment"))]


@pytest.mark.parametrize("spec", [None, "text", [AWS_KEY_ID], {}])
def test_odd_specs(job: dict[str, Any], spec: Any) -> None:
    job["spec"] = spec
    assert run(job) == []


def test_deep_nesting(job: dict[str, Any]) -> None:
    """No recursion in Python: a spec nested deeper than its stack is still walked."""
    deep: Any = {"x": AWS_KEY_ID}
    for _ in range(3000):
        deep = [deep]
    job["spec"]["futureConfig"] = {"deep": deep}
    assert [message for _, message in run(job)] == [value_message("aws_key", "futureConfig")]


def test_long_values_are_scanned_quickly(job: dict[str, Any]) -> None:
    job["spec"]["environment"] = {
        "BLOB": "a" * 200_000 + "://" * 1000,
        "X": "eyJ" * 50_000,
        "Y": ("QUtJ" + "a:") * 20_000,
        "Z": "Bearer" + " " * 100_000,
    }
    assert run(job) == []
