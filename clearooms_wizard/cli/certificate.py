"""``certificate``: a certificate instead of a client secret, for an administrator to upload by
hand, and (only when asked) the private key, wrapped with a passphrase."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TextIO

from clearooms_wizard.cli.connection import runtime_for
from clearooms_wizard.cli.exits import EXIT_FAILED, EXIT_OK, UsageError
from clearooms_wizard.cli.invocation import Invocation
from clearooms_wizard.cli.parser import Parser, SharedOptions, Subcommands
from clearooms_wizard.core.cancel import Cancelled
from clearooms_wizard.core.certificates import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    CertificateError,
    check_months,
    create_certificate,
    export_private_key,
)
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.core.secrets import CERTIFICATE_NO_KEYRING_MESSAGE, SecretStoreError
from clearooms_wizard.core.values import check_client_id, check_tenant

_UPLOAD_HOW = (
    "Upload it in the Microsoft Entra admin center: App registrations, the Clearooms app, "
    "Certificates & secrets, Certificates, Upload certificate. Then run "
    "“clearooms-wizard check --save”."
)


def add_commands(commands: Subcommands, shared: SharedOptions, summary: str) -> None:
    certificate = commands.add_parser(
        "certificate",
        help=summary,
        description="Sign the app in with a certificate instead of a client secret.",
    )
    certificate.set_defaults(func=_say_what_to_do)
    sub = certificate.add_subparsers(
        dest="certificate_command", metavar="COMMAND", parser_class=Parser
    )
    create = sub.add_parser(
        "create",
        parents=[shared.online],
        help="make a certificate for the app and write its public .cer file",
        description="Make a key pair and a self-signed certificate for the app. The private key "
        "stays in this computer's keyring; the .cer file (public, no secret in it) is for an "
        "administrator to upload to the app under Certificates & secrets.",
    )
    create.add_argument(
        "--months",
        metavar="N",
        default=str(DEFAULT_MONTHS),
        help=f"how long the certificate lasts: 1 to {MAX_MONTHS} months (default {DEFAULT_MONTHS})",
    )
    create.add_argument(
        "--output", metavar="FILE", default="clearooms-booking.cer", help="the .cer file to write"
    )
    create.add_argument("--force", action="store_true", help="replace the file if it exists")
    create.set_defaults(func=run_create)
    export = sub.add_parser(
        "export-key",
        parents=[shared.online],
        help="write the private key and certificate to a passphrase-protected .pfx file",
        description="Write the saved certificate and its private key to a PKCS#12 (.pfx) file, "
        "encrypted with a passphrase you choose. Anyone with the file and the passphrase can "
        "sign in as the app: keep both safe.",
    )
    export.add_argument("--output", metavar="FILE", required=True, help="the .pfx file to write")
    export.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from the first line of standard input instead of asking",
    )
    export.add_argument("--force", action="store_true", help="replace the file if it exists")
    export.set_defaults(func=run_export)


def _say_what_to_do(invocation: Invocation) -> int:
    raise UsageError("Say what to do, for example: clearooms-wizard certificate create")


def _target(raw: str, force: bool) -> Path:
    target = Path(raw).expanduser()
    if target.is_dir():
        raise UsageError(f"{printable(str(target))} is a folder; name a file.")
    if target.exists() and not force:
        raise UsageError(
            f"{printable(str(target))} already exists. Add --force to replace it, or choose "
            "another file."
        )
    return target


def _write(target: Path, data: bytes) -> None:
    # Owner-only from the start: a .pfx holds the key, however well wrapped.
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def run_create(invocation: Invocation) -> int:
    args, out, err = invocation.args, invocation.out, invocation.err
    try:
        months = int(args.months)
    except ValueError:
        raise UsageError(f"--months takes a number from 1 to {MAX_MONTHS}.") from None
    problem = check_months(months)
    if problem:
        raise UsageError(problem)
    target = _target(args.output, args.force)
    options = invocation.command_options()
    if options.demo:
        raise UsageError("certificate create cannot be used with --demo: it is for your own app.")
    runtime = runtime_for(options, err)
    tenant = check_tenant(runtime.connection.tenant)
    client_id = check_client_id(runtime.connection.client_id)
    if tenant.value is None or client_id.value is None:
        raise UsageError(
            "Give the app's tenant and client ID with --tenant and --client-id (or save the "
            "connection first), so the certificate is kept for that app."
        )
    made = create_certificate(client_id.value, months=months)
    try:
        # The key first: a .cer whose key is lost when this command ends is worse than none.
        message = runtime.use_cases.keep_certificate(
            tenant.value, client_id.value, runtime.connection.cloud, made, keyring_only=True
        )
    except SecretStoreError as exc:
        err.write(f"{_not_kept(str(exc))}\n")
        return EXIT_FAILED
    _write(target, made.der)
    until = f"{made.not_after:%d %B %Y}".lstrip("0")
    out.write(
        f"Wrote the certificate to {printable(str(target))} (thumbprint "
        f"{made.sha1_thumbprint.upper()}, valid until {until}). It holds no secret.\n"
        f"{_UPLOAD_HOW}\n"
    )
    if message:
        out.write(f"{printable(message)}\n")
    else:
        out.write("The private key is in this computer's keyring.\n")
    return EXIT_OK


def _not_kept(reason: str) -> str:
    if reason == CERTIFICATE_NO_KEYRING_MESSAGE:
        reason = (
            "This computer has no secure password store (keyring), so the certificate's private "
            "key could not be kept once this command ends."
        )
    else:  # the keyring refused: its words, without the wizard's "until you close it"
        reason = reason.split(" Until then")[0]
    return (
        f"{printable(reason)}\nNo certificate was made and nothing was changed. Make it in the "
        "wizard instead (it can export the key with a passphrase), or on a computer with a "
        "keyring."
    )


def _passphrase(invocation: Invocation) -> str:
    if invocation.args.passphrase_stdin:
        given = invocation.stdin.readline().rstrip("\r\n")
        if not given:
            raise UsageError("--passphrase-stdin was given, but standard input was empty.")
        return given
    if not _is_terminal(invocation.stdin):
        # getpass would fall back to reading standard input with the passphrase echoed, or end
        # in a traceback when there is nothing to read.
        raise UsageError(
            "There is no terminal to ask for the passphrase in. Give it on the first line of "
            "standard input with --passphrase-stdin. Nothing was written."
        )
    try:
        first = getpass.getpass("Passphrase for the .pfx file: ")
        again = getpass.getpass("The same passphrase again: ")
    except EOFError:
        raise UsageError("No passphrase was given. Nothing was written.") from None
    except KeyboardInterrupt:
        raise Cancelled() from None
    if first != again:
        raise UsageError("The two passphrases differ. Nothing was written.")
    return first


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):  # closed, or not a real file
        return False


def run_export(invocation: Invocation) -> int:
    args, out, err = invocation.args, invocation.out, invocation.err
    target = _target(args.output, args.force)
    options = invocation.command_options()
    runtime = runtime_for(options, err)
    certificate = runtime.connection.certificate
    if certificate is None:
        raise UsageError(
            "There is no saved certificate to export. Make one with "
            "“clearooms-wizard certificate create” first."
        )
    try:
        data = export_private_key(certificate, _passphrase(invocation))
    except CertificateError as exc:
        raise UsageError(str(exc)) from None
    _write(target, data)
    out.write(
        f"Wrote the certificate and its private key to {printable(str(target))}, encrypted with "
        "your passphrase. Anyone with the file and the passphrase can sign in as the app.\n"
    )
    return EXIT_OK
