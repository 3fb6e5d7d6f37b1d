"""Test certificates made with the openssl command: a CA, and certificates it issues."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue_ca(folder: Path, name: str) -> None:
    """A self-signed CA: ``name.pem`` and ``name.key`` in ``folder``."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=folder)  # fmt: skip


def issue_certificate(folder: Path, ca: str, name: str, *extensions: str) -> None:
    """A certificate ``name.pem`` (key ``name.key``) that the CA ``ca`` issued, with ``extensions``."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)  # fmt: skip
    extension_file = folder / f"{name}.ext"
    extension_file.write_text("\n".join(extensions) + "\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-days", "2", "-extfile", extension_file.name, "-out", f"{name}.pem",
             cwd=folder)  # fmt: skip
