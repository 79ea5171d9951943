"""What every command that talks to Microsoft starts with: the runtime (after anything the user
should read first) and the three values, well formed."""

from __future__ import annotations

from typing import TextIO

from clearooms_wizard.cli.exits import UsageError
from clearooms_wizard.core.safetext import printable
from clearooms_wizard.core.values import SECRET_LABEL, Credentials, check_values
from clearooms_wizard.runtime import ConnectionOptions, Runtime, build_runtime

# When the keyring refused, "enter the client secret" would send people looking for a secret
# they already saved.
_SECRET_NOT_READ = (
    "Client secret: the saved one could not be read, because the keyring refused (see the note "
    "above). Unlock the keyring and run the same command again, or give the secret with "
    "--secret-stdin or the CLEAROOMS_CLIENT_SECRET variable."
)


def runtime_for(options: ConnectionOptions, err: TextIO) -> Runtime:
    """The connection to use, after saying anything the user should read first (for example,
    that the keyring is locked, so the saved client secret could not be read)."""
    runtime = build_runtime(options)
    if runtime.notice:
        err.write(f"Note: {printable(runtime.notice)}\n")
        err.flush()
    return runtime


def credentials(runtime: Runtime) -> Credentials:
    """The three values, well formed, or a usage error that says what is wrong with each."""
    checked = check_values(runtime.connection)
    if checked.credentials is not None:
        return checked.credentials
    keyring_refused = not runtime.connection.client_secret and runtime.notice
    saved = runtime.saved
    if keyring_refused and saved is not None and saved.credential_kind == "certificate":
        # The saved certificate could not be read: the note above says why and what to do.
        raise UsageError("Certificate: its private key could not be read (see the note above).")
    raise UsageError(
        "\n".join(
            _SECRET_NOT_READ if keyring_refused and label == SECRET_LABEL else f"{label}: {problem}"
            for label, problem in checked.problems()
        )
    )
