"""What users hand the tools: YAML files read within bounds, and secrets from an option, a file or
the environment.

Shared by the simulator (profiles, KCI scripts, ``fibresim serve`` and ``receiver``) and the
certification suite (address files, ``fibresim certify``, the pytest plugin), which may import
``contracts`` but not each other. Every failure is an :class:`InputError` whose message is one
line that names the file (or option) and the problem, never the file's content or a secret.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import ValidationError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_SECRET_BYTES",
    "MAX_YAML_NODES",
    "InputError",
    "SecretOption",
    "add_secret_option",
    "http_url",
    "load_yaml",
    "read_bounded",
    "schema_message",
    "secret_from",
]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest profile, address file or KCI script read (4 MiB; the bundled ones are a few KiB)."""

MAX_SECRET_BYTES = 64 * 1024
"""The largest secret file read (a token or password is far smaller)."""

MAX_YAML_NODES = 1_000_000
"""Values a parsed YAML document may hold, aliases expanded: a few aliases can otherwise
multiply a small file into billions of values once validated or fingerprinted."""

_SHOWN = 60  # characters of a value quoted in a message


class InputError(Exception):
    """A file or option cannot be used; the message is one line and names which and why."""


def read_bounded(source: Path | Traversable, *, what: str, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of ``source``, a regular file of at most ``limit`` bytes.

    A FIFO, a device (``/dev/zero``) or a directory is refused before anything is read.
    """
    if isinstance(source, Path):
        data = _read_regular_file(source, what, limit)
    else:  # a resource inside an installed package (possibly in a zip): no FIFOs there
        try:
            with source.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as error:
            raise InputError(f"cannot read {what} {source}: {error.strerror or error}") from None
    if len(data) > limit:
        raise InputError(f"{what} {source} is larger than {_size(limit)}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{what} {source} is not UTF-8 text (byte {error.start})") from None


def _read_regular_file(path: Path, what: str, limit: int) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the check is on the opened
        # descriptor, so the file cannot be swapped between the check and the read.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise InputError(f"cannot read {what} {path}: {error.strerror or error}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise InputError(f"{what} {path} is {kind}")
        chunks: list[bytes] = []
        wanted = limit + 1
        while wanted > 0 and (chunk := os.read(descriptor, min(wanted, 1 << 20))):
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise InputError(f"cannot read {what} {path}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def load_yaml(source: Path | Traversable, *, what: str, limit: int = MAX_FILE_BYTES) -> Any:
    """Parse the YAML file ``source`` (read with :func:`read_bounded`); errors name line and column."""
    text = read_bounded(source, what=what, limit=limit)
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = _one_line(error.problem or error.context or "cannot be parsed")
        raise InputError(f"{what} {source} is not valid YAML{where}: {problem}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{what} {source} is not valid YAML: {_one_line(str(error))}") from None
    except RecursionError:
        raise InputError(f"{what} {source} is nested too deeply") from None
    if _too_many_values(document):
        raise InputError(f"{what} {source} holds more than {MAX_YAML_NODES:,} values (aliases expanded)")
    return document


def _too_many_values(document: Any) -> bool:
    # Walks aliases as the validator would, but stops as soon as the budget is spent.
    budget = MAX_YAML_NODES
    pending = [document]
    while pending:
        value = pending.pop()
        budget -= 1
        if budget < 0:
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 200 else flat[:199] + "…"


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return f"a mapping of {len(value)} keys"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def schema_message(error: ValidationError) -> str:
    """``error``'s message with the offending value shortened, so a message never echoes a document."""
    message = error.message
    quoted = repr(error.instance)
    if len(quoted) > _SHOWN:
        message = message.replace(quoted, _shown(error.instance))
    return _one_line(message)


@dataclass(frozen=True, slots=True)
class SecretOption:
    """A secret the command line takes as ``--flag VALUE``, ``--flag-file PATH`` or ``$ENV``."""

    flag: str  # "--kci-client-secret"
    env: str  # "FIBRESIM_KCI_CLIENT_SECRET"
    help: str
    metavar: str = "SECRET"

    @property
    def dest(self) -> str:
        """The parsed option's attribute name."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def file_flag(self) -> str:
        """The option naming a file that holds the secret."""
        return f"{self.flag}-file"


def add_secret_option(add: Callable[..., Any], option: SecretOption) -> None:
    """Declare ``option`` and its ``-file`` twin with ``add`` (argparse's ``add_argument`` or
    pytest's ``addoption``)."""
    add(
        option.flag,
        metavar=option.metavar,
        default=None,
        help=f"{option.help}; visible to other users in ps, so prefer {option.file_flag} or ${option.env}",
    )
    add(
        option.file_flag,
        metavar="PATH",
        default=None,
        help=f"read {option.flag} from a file (its content, without the trailing newline)",
    )


def secret_from(
    get: Callable[[str], Any], option: SecretOption, environ: Mapping[str, str] | None = None
) -> str | None:
    """The secret: ``--flag``, else the file ``--flag-file`` names, else ``$ENV``, else ``None``.

    ``get`` reads a parsed option by its attribute name (``lambda name: getattr(args, name)``).
    """
    value = get(option.dest)
    path = get(option.file_flag.lstrip("-").replace("-", "_"))
    if value is not None and path is not None:
        raise InputError(f"give {option.flag} or {option.file_flag}, not both")
    if value is not None:
        if not value:
            raise InputError(f"{option.flag} is empty")
        return str(value)
    if path is not None:
        secret = read_bounded(Path(path), what=option.file_flag, limit=MAX_SECRET_BYTES).rstrip("\r\n")
        if not secret:
            raise InputError(f"{option.file_flag} {path} is empty")
        return secret
    return (os.environ if environ is None else environ).get(option.env) or None


def http_url(value: str, flag: str) -> str:
    """``value`` if it is an http(s) URL with a host; otherwise an error naming ``flag``."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise InputError(f"{flag}: not a valid URL") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InputError(f"{flag}: give an http:// or https:// URL with a host")
    return value


# --- numbers on the command line (argparse types, shared by fibresim's commands and certify) ---


def _number(text: str, *, least: float, most: float | None = None, integer: bool = False) -> float:
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if integer else ''}number") from None
    if not math.isfinite(number) or number < least or (most is not None and number > most):
        bounds = f"from {least:g} to {most:g}" if most is not None else f"at least {least:g}"
        raise argparse.ArgumentTypeError(f"{text} is not {bounds}")
    return number


def port_number(text: str) -> int:
    """A TCP port to listen on, 1-65535."""
    return int(_number(text, least=1, most=65535, integer=True))


def port_or_zero(text: str) -> int:
    """A TCP port, or 0 for any free one."""
    return int(_number(text, least=0, most=65535, integer=True))


def positive_int(text: str) -> int:
    """A whole number of at least 1 (a count)."""
    return int(_number(text, least=1, integer=True))


def non_negative_int(text: str) -> int:
    """A whole number of at least 0."""
    return int(_number(text, least=0, integer=True))


def non_negative_seconds(text: str) -> float:
    """Seconds, 0 or more, finite."""
    return _number(text, least=0)


def positive_seconds(text: str) -> float:
    """Seconds, more than 0, finite."""
    number = _number(text, least=0)
    if number == 0:
        raise argparse.ArgumentTypeError("0 is not more than 0")
    return number
