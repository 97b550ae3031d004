"""tsb.utils.secrets: redaction of secret env values and the config guard."""

from __future__ import annotations

import io
import logging

import pytest
from omegaconf import OmegaConf

from tsb.utils.secrets import (
    RedactingFilter,
    SecretInConfigError,
    assert_no_secrets_in_config,
    install_log_redaction,
    redact,
    register_secret_env,
)

SECRET = "y0_secretTOKEN_abcdef123456"
KEY = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YADISK_TOKEN", SECRET)
    monkeypatch.setenv("WANDB_API_KEY", KEY)


def test_redact_replaces_secret_values_everywhere(secrets_env: None) -> None:
    obj = {
        "url": f"https://x/?t={SECRET}",
        "nested": [f"key {KEY}", (SECRET, 3)],
        SECRET: 1.5,
        "blob": b"a" + SECRET.encode() + b"b",
        "n": 7,
        "none": None,
    }
    out = redact(obj)
    text = repr(out)
    assert SECRET not in text and KEY not in text
    assert out["url"] == "https://x/?t=<redacted:YADISK_TOKEN>"
    assert out["nested"] == ["key <redacted:WANDB_API_KEY>", ("<redacted:YADISK_TOKEN>", 3)]
    assert out["blob"] == b"a<redacted:YADISK_TOKEN>b"
    assert out["n"] == 7 and out["none"] is None
    assert redact("nothing secret here") == "nothing secret here"


def test_redact_is_identity_without_secrets_and_ignores_tiny_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YADISK_TOKEN", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    obj = {"a": "b"}
    assert redact(obj) is obj
    monkeypatch.setenv("YADISK_TOKEN", "1")  # a one-character "token" would mangle every number
    assert redact("step 1 of 10") == "step 1 of 10"


def test_custom_token_env_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_DISK_TOKEN", "custom-secret-value")
    register_secret_env("MY_DISK_TOKEN")
    assert redact("x custom-secret-value y") == "x <redacted:MY_DISK_TOKEN> y"


def test_log_filter_redacts_messages_args_and_tracebacks(secrets_env: None) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tsb.test.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        flt = install_log_redaction(logger)
        assert isinstance(flt, RedactingFilter) and install_log_redaction(logger) is flt  # idempotent
        logger.warning("token is %s", SECRET)
        try:
            raise RuntimeError(f"failed with {KEY}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert SECRET not in text and KEY not in text
    assert "token is <redacted:YADISK_TOKEN>" in text and "failed with <redacted:WANDB_API_KEY>" in text


def test_config_guard(secrets_env: None) -> None:
    ok = OmegaConf.create({"storage": {"token_env": "YADISK_TOKEN", "remote_dir": "disk:/x"}, "lr": 1e-3})
    assert_no_secrets_in_config(ok)
    assert_no_secrets_in_config({"storage": {"token": None}})

    cases = {
        "storage.token": {"storage": {"token": "abc-not-the-env"}},
        "logger.wandb.notes": {"logger": {"wandb": {"notes": f"key={KEY}"}}},
        "storage.extra": OmegaConf.create({"storage": {"extra": "${oc.env:YADISK_TOKEN}"}}),
        "hosts[1]": {"hosts": ["a", f"b{SECRET}"]},
    }
    for where, cfg in cases.items():
        with pytest.raises(SecretInConfigError) as err:
            assert_no_secrets_in_config(cfg)
        msg = str(err.value)
        assert where in msg, msg
        assert SECRET not in msg and KEY not in msg and "abc-not-the-env" not in msg
