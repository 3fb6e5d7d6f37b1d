"""Files and secrets users hand the tools: bounded, regular files only, errors that name the
place and never echo the content."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from contracts.inputs import (
    MAX_FILE_BYTES,
    InputError,
    SecretOption,
    http_url,
    load_yaml,
    read_bounded,
    schema_message,
    secret_from,
)


def refused(path: Path, **kwargs: int) -> str:
    with pytest.raises(InputError) as caught:
        load_yaml(path, what="profile", **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_small_regular_file_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("supplier: {name: A}\n")
    assert load_yaml(path, what="profile") == {"supplier": {"name": "A"}}


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert refused(fifo) == f"profile {fifo} is not a regular file"


def test_a_device_that_never_ends_is_refused() -> None:
    assert refused(Path("/dev/zero")) == "profile /dev/zero is not a regular file"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path) == f"profile {tmp_path} is a directory"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    assert "No such file" in refused(tmp_path / "absent.yaml")


def test_a_file_over_the_limit_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * MAX_FILE_BYTES)
    message = refused(path)
    assert message == f"profile {path} is larger than 4 MiB"


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "edge.txt"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, what="file", limit=100) == "x" * 100
    with pytest.raises(InputError, match="larger than 99 bytes"):
        read_bounded(path, what="file", limit=99)


def test_bytes_that_are_not_utf8_are_refused_with_their_position(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    assert refused(path) == f"profile {path} is not UTF-8 text (byte 9)"


def test_a_yaml_error_names_the_line_and_column_and_not_the_content(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("supplier: {name: SECRET-CONTENT}\nwindows: [1, 2\nnext: 3\n")
    message = refused(path)
    assert message.startswith(f"profile {path} is not valid YAML at line 3, column 5: ")
    assert "SECRET-CONTENT" not in message


def test_aliases_that_multiply_into_millions_of_values_are_refused(tmp_path: Path) -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 8)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert "holds more than 1,000,000 values" in refused(path)


def test_nesting_too_deep_for_the_parser_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 50_000 + "]" * 50_000)
    assert refused(path) == f"profile {path} is nested too deeply"


def test_a_schema_message_shortens_a_large_value() -> None:
    validator = Draft202012Validator({"type": "object"})
    error = next(iter(validator.iter_errors("y" * 10_000)))
    message = schema_message(error)
    assert message.endswith("… is not of type 'object'")
    assert len(message) < 100
    listed = next(iter(validator.iter_errors(list(range(5000)))))
    assert schema_message(listed) == "a list of 5000 items is not of type 'object'"


OPTION = SecretOption("--kci-token", "FIBRESIM_KCI_TOKEN", "a token")


def secret(
    value: str | None = None, file: str | None = None, environ: dict[str, str] | None = None
) -> str | None:
    given = {"kci_token": value, "kci_token_file": file}
    return secret_from(given.__getitem__, OPTION, environ or {})


def test_a_secret_comes_from_the_option_then_the_file_then_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("from-file\n")
    environ = {"FIBRESIM_KCI_TOKEN": "from-env"}
    assert secret("from-option", environ=environ) == "from-option"
    assert secret(file=str(path), environ=environ) == "from-file"
    assert secret(environ=environ) == "from-env"
    assert secret() is None


def test_a_secret_given_twice_is_refused() -> None:
    with pytest.raises(InputError, match="give --kci-token or --kci-token-file, not both"):
        secret("a", "b")


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_text("\n")
    with pytest.raises(InputError, match="is empty"):
        secret(file=str(path))


def test_a_secret_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is not a regular file"):
        secret(file=str(fifo))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("notaurl", "give an http:// or https:// URL with a host"),
        ("ftp://host/x", "give an http:// or https:// URL with a host"),
        ("http://host:port", "not a valid URL"),
    ],
)
def test_a_url_that_is_not_http_is_refused_naming_the_option(value: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        http_url(value, "--kci-url")
    assert str(caught.value) == f"--kci-url: {problem}"


def test_an_http_url_is_accepted() -> None:
    assert http_url("https://gateway.example:8443/v1", "--kci-url") == "https://gateway.example:8443/v1"
