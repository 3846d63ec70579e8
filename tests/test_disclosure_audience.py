"""The audience and the threshold come from the server's environment, checked strictly."""

from __future__ import annotations

import pytest

from data_access.audience import (
    Audience,
    AudienceConfigurationError,
    audience_from_environment,
    unauthenticated_staff_allowed,
)
from data_access.disclosure import Policy, PolicyError, policy_from_environment


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, Audience.PUBLIC),
        ({"LEAD_AUDIENCE": ""}, Audience.PUBLIC),
        ({"LEAD_AUDIENCE": "public"}, Audience.PUBLIC),
        ({"LEAD_AUDIENCE": " Staff "}, Audience.STAFF),
    ],
)
def test_audience_defaults_to_public(environ, expected):
    assert audience_from_environment(environ) is expected


def test_an_unknown_audience_is_an_error_naming_the_variable_and_the_choices():
    with pytest.raises(AudienceConfigurationError) as caught:
        audience_from_environment({"LEAD_AUDIENCE": "admin"})
    message = str(caught.value)
    assert "LEAD_AUDIENCE" in message and "'admin'" in message
    assert '"public"' in message and '"staff"' in message


def test_audience_is_read_from_the_process_environment_on_each_call(monkeypatch):
    monkeypatch.setenv("LEAD_AUDIENCE", "staff")
    assert audience_from_environment() is Audience.STAFF
    monkeypatch.delenv("LEAD_AUDIENCE")
    assert audience_from_environment() is Audience.PUBLIC


@pytest.mark.parametrize(
    ("raw", "allowed"), [(None, False), ("", False), ("0", False), ("1", True)]
)
def test_unauthenticated_staff_only_with_exactly_1(raw, allowed):
    environ = {} if raw is None else {"LEAD_ALLOW_UNAUTHENTICATED_STAFF": raw}
    assert unauthenticated_staff_allowed(environ) is allowed


def test_a_typo_in_the_unauthenticated_staff_switch_is_an_error():
    with pytest.raises(AudienceConfigurationError, match="LEAD_ALLOW_UNAUTHENTICATED_STAFF"):
        unauthenticated_staff_allowed({"LEAD_ALLOW_UNAUTHENTICATED_STAFF": "yes"})


def test_k_comes_from_the_environment_within_limits():
    assert policy_from_environment({}) == Policy()
    assert policy_from_environment({"LEAD_DISCLOSURE_K": "16"}).k == 16
    with pytest.raises(PolicyError, match="LEAD_DISCLOSURE_K"):
        policy_from_environment({"LEAD_DISCLOSURE_K": "3"})
    with pytest.raises(PolicyError, match="LEAD_DISCLOSURE_K"):
        policy_from_environment({"LEAD_DISCLOSURE_K": "eleven"})
