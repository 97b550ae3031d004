"""Keep secrets (tokens, API keys) out of everything a run writes.

Secrets reach the program only through environment variables (``YADISK_TOKEN``,
``WANDB_API_KEY``, or another variable registered with :func:`register_secret_env`). This
module offers three guards:

- :func:`redact` replaces the *values* of those variables wherever they occur in a string or a
  nested dict / list / tuple (the trainer calls it on everything it writes);
- :class:`RedactingFilter` / :func:`install_log_redaction` do the same for log records;
- :func:`assert_no_secrets_in_config` refuses a config (before it is saved or logged) that holds
  a secret value, an ``${oc.env:<SECRET>}`` interpolation, or a key such as ``token`` or
  ``api_key`` with a literal value. The error names the key, never the value.

Values shorter than :data:`MIN_SECRET_LEN` characters are ignored (replacing ``"1"`` everywhere
would mangle every number and protects nothing: real tokens are long).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from hydra.experimental.callback import Callback

from tsb.errors import SecretInConfigError

#: Environment variables whose values are secrets.
SECRET_ENV_VARS: list[str] = ["YADISK_TOKEN", "WANDB_API_KEY"]
#: Shorter values are not treated as secrets (see the module docstring).
MIN_SECRET_LEN = 6
#: What a secret value is replaced with; the variable name is kept so a reader knows what it was.
PLACEHOLDER = "<redacted:{name}>"

# keys whose literal value must never be in a config (token_env / api_key_env hold variable *names*)
_SECRET_KEY = re.compile(
    r"^(token|oauth_token|access_token|api_key|apikey|password|secret|client_secret)$", re.I
)
# what a variable name given in `token_env` / `api_key_env` looks like (a token does not)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_ENV_INTERP = re.compile(r"\$\{\s*oc\.env\s*:\s*([A-Za-z_][A-Za-z0-9_]*)")


def register_secret_env(name: str) -> None:
    """Treat the value of environment variable ``name`` as a secret from now on."""
    if name and name not in SECRET_ENV_VARS:
        SECRET_ENV_VARS.append(name)


def secret_values(names: Iterable[str] | None = None) -> dict[str, str]:
    """``{variable name: value}`` of the secret variables currently set (long enough to matter)."""
    out: dict[str, str] = {}
    for name in SECRET_ENV_VARS if names is None else names:
        value = os.environ.get(name, "")
        if len(value) >= MIN_SECRET_LEN:
            out[name] = value
    return out


def _redact_str(text: str, secrets: Mapping[str, str]) -> str:
    # longest first, so a secret that contains another is replaced whole
    for name, value in sorted(secrets.items(), key=lambda kv: -len(kv[1])):
        if value in text:
            text = text.replace(value, PLACEHOLDER.format(name=name))
    return text


def _redact(obj: Any, secrets: Mapping[str, str]) -> Any:
    if isinstance(obj, str):
        return _redact_str(obj, secrets)
    if isinstance(obj, bytes):
        for name, value in secrets.items():
            obj = obj.replace(value.encode(), PLACEHOLDER.format(name=name).encode())
        return obj
    if isinstance(obj, Mapping):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact(v, secrets) for v in obj]
    if isinstance(obj, (tuple, set, frozenset)):
        return type(obj)(_redact(v, secrets) for v in obj)
    return obj


def redact(obj: Any) -> Any:
    """Return ``obj`` with every secret env value replaced by ``<redacted:NAME>``.

    Strings, bytes and nested mappings / lists / tuples / sets are rebuilt (mappings become plain
    dicts; an OmegaConf config should be converted with ``OmegaConf.to_container`` first); other
    objects (numbers, tensors, None) are returned unchanged. Cheap when no secret is set.
    """
    secrets = secret_values()
    if not secrets:
        return obj
    return _redact(obj, secrets)


class RedactingFilter(logging.Filter):
    """A logging filter that removes secret env values from a record's message and arguments.

    Filters attached to a *logger* do not see records propagated from child loggers, so attach
    it to handlers (see :func:`install_log_redaction`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = secret_values()
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = _redact_str(message, secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = _redact_str(record.exc_text, secrets)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one :class:`RedactingFilter` to every handler of ``logger`` (root by default).

    Idempotent; call it after logging is configured (Hydra configures it before the task runs).
    """
    logger = logger or logging.getLogger()
    flt = next(
        (f for h in logger.handlers for f in h.filters if isinstance(f, RedactingFilter)), RedactingFilter()
    )
    for handler in logger.handlers:
        if flt not in handler.filters:
            handler.addFilter(flt)
    return flt


def walk_config(obj: Any, path: str) -> Iterable[tuple[str, Any, Any]]:
    """Yield ``(dotted path, key, value)`` for every leaf of a nested mapping / sequence."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            sub = f"{path}.{k}" if path else str(k)
            yield sub, k, v
            yield from walk_config(v, sub)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            sub = f"{path}[{i}]"
            yield sub, None, v
            yield from walk_config(v, sub)


def _as_containers(cfg: Any) -> tuple[Any, Any]:
    """``(unresolved, resolved or None)`` plain containers of an OmegaConf config or a mapping."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        return cfg, None
    if isinstance(cfg, (DictConfig, ListConfig)):
        raw = OmegaConf.to_container(cfg, resolve=False)
        try:
            resolved = OmegaConf.to_container(cfg, resolve=True)
        except Exception:  # ${hydra:...} outside a Hydra run: check the raw values only
            resolved = None
        return raw, resolved
    return cfg, None


def assert_no_secrets_in_config(cfg: Any) -> None:
    """Raise :class:`SecretInConfigError` if ``cfg`` (an OmegaConf config or a mapping) would
    leak a secret when saved or logged.

    Checked: any string containing the value of a secret env variable (before and, where it
    resolves, after interpolation); any ``${oc.env:VAR}`` interpolation of a secret variable; any
    key named like ``token`` / ``api_key`` / ``password`` / ``secret`` with a non-empty value
    (secrets belong in the environment; configs name the variable, e.g. ``token_env``).
    """
    raw, resolved = _as_containers(cfg)
    secrets = secret_values()
    problems: list[str] = []
    for container in (raw, resolved):
        if container is None:
            continue
        for path, key, value in walk_config(container, ""):
            literal = isinstance(value, (str, int, float)) and not isinstance(value, bool)
            if isinstance(key, str) and _SECRET_KEY.match(key) and literal and value not in ("", "???"):
                problems.append(f"`{path}` holds a secret value; put it in an environment variable instead")
            if isinstance(value, str):
                for name, secret in secrets.items():
                    if secret in value:
                        problems.append(f"`{path}` contains the value of ${name}")
                for var in _ENV_INTERP.findall(value):
                    if var in SECRET_ENV_VARS:
                        problems.append(
                            f"`{path}` interpolates the secret variable {var} (${{oc.env:{var}}})"
                        )
    if problems:
        unique = list(dict.fromkeys(problems))
        raise SecretInConfigError(
            "refusing to save or log a config that contains secrets:\n  - "
            + "\n  - ".join(unique)
            + "\nSecrets are read from the environment only (e.g. YADISK_TOKEN, WANDB_API_KEY); "
            "the config should only name the variable (e.g. storage.token_env=YADISK_TOKEN)."
        )


def check_overrides(overrides: Iterable[str]) -> None:
    """Refuse secrets given on the command line, before Hydra writes them to the run folder.

    Hydra saves every override in ``.hydra/overrides.yaml`` and ``config.yaml``, and from there
    they reach W&B and the uploaded run folder. Refused: a value for a key named like ``token`` /
    ``api_key`` (``+storage.token=...``); a ``*_env`` key whose value is not an environment
    variable name (a token pasted as ``storage.token_env``); any value that holds a secret env
    value. The message names the key, never the value.
    """
    problems: list[str] = []
    secrets = secret_values()
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep:
            continue
        key = key.lstrip("+~").split("@", 1)[0]
        leaf = key.rsplit(".", 1)[-1]
        if _SECRET_KEY.match(leaf) and value.strip() not in ("", "null", "???"):
            problems.append(f"`{key}` is given on the command line")
        elif leaf.endswith("_env") and value and not _ENV_NAME.match(value):
            problems.append(
                f"`{key}` must name an environment variable (like YADISK_TOKEN), and the value given is "
                "not such a name (it looks like the secret itself)"
            )
        elif any(secret in value for secret in secrets.values()):
            problems.append(f"`{key}` holds the value of a secret environment variable")
    if problems:
        raise SecretInConfigError(
            "refusing to start: Hydra would write these to the run folder (.hydra/overrides.yaml, "
            "config.yaml), W&B and remote storage: "
            + "; ".join(dict.fromkeys(problems))
            + ". Put the secret in the environment instead (export YADISK_TOKEN=... or WANDB_API_KEY=...) "
            "and name the variable in the config (storage.token_env=YADISK_TOKEN), then run again "
            "without it on the command line."
        )


class SecretGuard(Callback):
    """Hydra callback (``conf/hydra/default.yaml``): checks the overrides and the composed config
    before Hydra writes anything; a secret there is one message and exit status 2."""

    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        self._check(config)

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        self._check(config)

    @staticmethod
    def _check(config: Any) -> None:
        import sys

        from omegaconf import OmegaConf

        try:
            check_overrides(list(config.hydra.overrides.task))
            assert_no_secrets_in_config(OmegaConf.masked_copy(config, [k for k in config if k != "hydra"]))
        except SecretInConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2) from None
