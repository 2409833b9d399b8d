"""The ACK reference data is found through one setting, and its absence skips with advice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ACK_DIR_VARIABLE, AckData, ack_data


def test_a_missing_folder_skips_naming_the_variable_the_repository_and_the_tag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "missing"
    monkeypatch.setenv("TRAININGJOB_GUARD_ACK_DIR", str(missing))

    with pytest.raises(pytest.skip.Exception) as skipped:
        ack_data()

    assert str(skipped.value) == (
        f"ACK sagemaker-controller v1.9.1 data not found in {missing}: set "
        "TRAININGJOB_GUARD_ACK_DIR to a checkout of "
        "github.com/aws-controllers-k8s/sagemaker-controller at v1.9.1"
    )


def test_a_folder_without_the_crd_is_not_the_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "README.md").write_text("not a checkout\n")
    monkeypatch.setenv(ACK_DIR_VARIABLE, str(tmp_path))

    with pytest.raises(pytest.skip.Exception, match="TRAININGJOB_GUARD_ACK_DIR"):
        ack_data()


def test_the_variable_names_the_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    crd = AckData(tmp_path).crd
    crd.parent.mkdir(parents=True)
    crd.write_text("kind: CustomResourceDefinition\n")
    monkeypatch.setenv(ACK_DIR_VARIABLE, str(tmp_path))

    data = ack_data()

    assert data.root == tmp_path
    assert data.crd.as_posix().endswith(
        "config/crd/bases/sagemaker.services.k8s.aws_trainingjobs.yaml"
    )
    assert data.unit_testdata == tmp_path / "pkg/resource/training_job/testdata/v1alpha1"
    assert data.e2e_resources == tmp_path / "test/e2e/resources"


def test_a_test_using_the_fixture_is_marked(request: pytest.FixtureRequest, ack: AckData) -> None:
    """The marker is what the setup skips by and the terminal summary counts."""
    assert request.node.get_closest_marker("requires_ack") is not None
    assert ack.crd.is_file()


def test_a_test_not_using_it_is_not_marked(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("requires_ack") is None
