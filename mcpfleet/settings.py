"""Service settings from a TOML file, `MCPFLEET_<PREFIX>_<KEY>` env and flags (ARCHITECTURE 7).

A service describes its settings as a pydantic model (`extra="forbid"`); `load_settings` builds
one flag per field (`--state-dir` for `state_dir`) plus `--config FILE` (env
`MCPFLEET_<PREFIX>_CONFIG`), then merges, later winning: model defaults < TOML file < env <
flags. Unknown keys in the file and unknown `MCPFLEET_<PREFIX>_*` env variables are errors:
`load_settings` prints the reason and exits with status 2 (usage), before anything starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _env(prefix: str, name: str) -> str:
    return f"MCPFLEET_{prefix}_{name.upper()}"


def settings_parser(model: type[BaseModel], prefix: str, prog: str, description: str | None
                    ) -> argparse.ArgumentParser:
    """The argparse parser: `--config` and one flag per field (all default to 'not given')."""
    p = argparse.ArgumentParser(prog=prog, description=description,
                                argument_default=argparse.SUPPRESS)
    p.add_argument("--config", type=Path, help=f"TOML settings file (env {_env(prefix, 'config')})")
    for name, info in model.model_fields.items():
        default = info.get_default(call_default_factory=True)
        p.add_argument(_flag(name), dest=name, metavar=name.upper(),
                       help=f"{info.description or ''} (env {_env(prefix, name)}; default {default})")
    return p


def merge_sources(model: type[M], prefix: str, file_values: dict[str, Any], env: dict[str, str],
                  flags: dict[str, Any]) -> M:
    """Validate defaults < `file_values` < `env` < `flags` into `model`. Raises ValueError with
    every problem (unknown keys included) in one message."""
    known = set(model.model_fields)
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in file_values.items():
        name = key.replace("-", "_")
        if name not in known:
            problems.append(f"unknown key {key!r} in the settings file")
        values[name] = value
    env_prefix = f"MCPFLEET_{prefix}_"
    for var, value in env.items():
        if not var.startswith(env_prefix) or var == env_prefix + "CONFIG":
            continue
        name = var[len(env_prefix):].lower()
        if name not in known:
            problems.append(f"unknown environment variable {var}")
        values[name] = value
    values.update(flags)
    if problems:
        raise ValueError("; ".join(problems))
    try:
        return model.model_validate(values)
    except ValidationError as err:
        raise ValueError("; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors())) from None


def load_settings(model: type[M], prefix: str, argv: list[str] | None = None, prog: str = "",
                  description: str | None = None) -> M:
    """Parse `argv` (default sys.argv[1:]) and the sources above into `model`; on any error print
    `<prog>: settings: <reason>` to stderr and exit 2."""
    parser = settings_parser(model, prefix, prog or model.__name__, description)
    flags = vars(parser.parse_args(argv))
    config = flags.pop("config", None) or os.environ.get(_env(prefix, "config"))
    try:
        file_values: dict[str, Any] = {}
        if config:
            with open(config, "rb") as f:
                file_values = tomllib.load(f)
        return merge_sources(model, prefix, file_values, dict(os.environ), flags)
    except (OSError, tomllib.TOMLDecodeError, ValueError) as err:
        print(f"{parser.prog}: settings: {err}", file=sys.stderr)
        raise SystemExit(2) from None
