"""The support report: everything support needs to help, and nothing secret.

One builder (:func:`build_support_report`) for the wizard's *Copy report* text and the command
line's ``check --json``, so that neither knows less than the other. The client secret appears
only as its first three characters (the "hint" the Entra portal shows next to each secret), and
anything shaped like an access token is removed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from clearooms_wizard import __version__
from clearooms_wizard.core.redaction import redact
from clearooms_wizard.core.values import Checked, ConnectionInput, check_client_id, check_tenant

if TYPE_CHECKING:
    # Only for the types: the wizard builds its report environment before its first paint,
    # and the checks (and what they load) are not needed for that.
    from clearooms_wizard.core.checks import CheckResult

# The distributions the Qt binding comes in, the one this product depends on first.
_QT_DISTRIBUTIONS = ("PySide6-Essentials", "PySide6")
# A secret this short is not one Entra made: its first three characters would give too much.
_SHORTEST_HINTED = 10
_HINT_LENGTH = 3


def _shown(raw: str, check: Callable[[str], Checked]) -> str:
    """Only a value that passed its check is shown: a box may hold a pasted secret."""
    if not raw.strip():
        return "not entered"
    checked = check(raw)
    return checked.value if checked.value else f"not valid ({len(raw.strip())} characters)"


def _hint(secret: str) -> str | None:
    return secret[:_HINT_LENGTH] if len(secret) >= _SHORTEST_HINTED else None


def secret_hint(secret: str) -> str:
    if not secret:
        return "not entered"
    hint = _hint(secret)
    if hint is None:
        return f"entered ({len(secret)} characters)"
    return f"entered, starts with “{hint}” ({len(secret)} characters)"


def qt_binding() -> str:
    """The Qt binding installed and its version, read without importing Qt (which core and the
    command line never load)."""
    from importlib import metadata

    for distribution in _QT_DISTRIBUTIONS:
        try:
            return f"{distribution} {metadata.version(distribution)}"
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


@dataclass(frozen=True)
class SupportReport:
    """What support is told, already without secrets: as text (:meth:`text`) or JSON."""

    created: str
    python: str
    operating_system: str
    qt_binding: str
    environment: Mapping[str, str]
    demo_scenario: str | None
    connection: ConnectionInput | None
    tenant_id: str | None
    results: Sequence[CheckResult]
    # What might be the secret (it, and whatever is in a box that failed its check).
    secrets: Sequence[str] = field(repr=False)

    def text(self) -> str:
        lines = [
            "Clearooms wizard support report",
            f"Created: {self.created}",
            f"Wizard version: {__version__}",
            f"Python: {self.python} on {self.operating_system}",
            f"Qt binding: {self.qt_binding}",
        ]
        for key, value in self.environment.items():
            lines.append(f"{key}: {value}")
        if self.demo_scenario:
            lines.append(f"Demo tenant scenario: {self.demo_scenario}")
        connection = self.connection
        if connection is not None:
            cloud = connection.cloud
            lines += [
                "",
                f"Cloud: {cloud.label} ({cloud.key})",
                f"Sign-in host: {cloud.authority_host}",
                f"Graph: {cloud.graph_root}",
                f"Tenant: {_shown(connection.tenant, check_tenant)}",
                f"Tenant ID found: {self.tenant_id or 'not yet'}",
                f"Client ID: {_shown(connection.client_id, check_client_id)}",
                f"Client secret: {secret_hint(connection.client_secret.strip())}",
            ]
            if connection.certificate is not None:
                # Public facts only: the thumbprint the portal shows, and the end date.
                cert = connection.certificate
                lines.append(
                    f"Certificate: thumbprint {cert.sha1_thumbprint.upper()}, valid until "
                    f"{cert.not_after:%Y-%m-%d}"
                )
        results = self.results
        lines += ["", "Test Settings:" if results else "Test Settings has not been run yet."]
        for result in results:
            lines.append(f"[{result.status.value.upper()}] {result.id}: {result.title}")
            lines.append(f"    {result.detail}")
            if result.fix:
                lines.append(f"    What to do: {result.fix}")
            if result.code:
                lines.append(f"    Code: {result.code}")
            for key, value in sorted(result.details.items()):
                lines.append(f"    {key}: {value}")
            lines.append(f"    At: {result.timestamp}")
        return redact("\n".join(lines) + "\n", self.secrets)

    def to_json(self) -> dict[str, Any]:
        """The same facts, keyed for scripts: the environment's labels in snake case
        ("Log file" is ``log_file``), the tenant as typed (when it is one) and as found."""
        data: dict[str, Any] = {
            "report_created": self.created,
            "version": __version__,
            "python": self.python,
            "os": self.operating_system,
            "qt_binding": self.qt_binding,
        }
        for key, value in self.environment.items():
            data[key.casefold().replace(" ", "_")] = value
        if self.demo_scenario:
            data["demo_scenario"] = self.demo_scenario
        connection = self.connection
        if connection is not None:
            cloud, secret = connection.cloud, connection.client_secret.strip()
            data["cloud"] = {
                "key": cloud.key,
                "label": cloud.label,
                "authority_host": cloud.authority_host,
                "graph_root": cloud.graph_root,
            }
            data["tenant"] = _shown(connection.tenant, check_tenant)
            data["tenant_id"] = self.tenant_id
            data["client_id"] = _shown(connection.client_id, check_client_id)
            data["client_secret"] = {
                "entered": bool(secret),
                "hint": _hint(secret) if secret else None,
                "length": len(secret),
            }
            if connection.certificate is not None:
                cert = connection.certificate
                data["certificate"] = {
                    "sha1_thumbprint": cert.sha1_thumbprint.upper(),
                    "sha256_thumbprint": cert.sha256_thumbprint.upper(),
                    "not_after": cert.not_after.isoformat(),
                }
        data["checks"] = [result.to_json() for result in self.results]
        return cast(dict[str, Any], _redacted(data, self.secrets))


def _redacted(value: object, secrets: Sequence[str]) -> object:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, secrets) for item in value]
    return value


def build_support_report(
    connection: ConnectionInput | None,
    results: Sequence[CheckResult],
    *,
    tenant_id: str | None = None,
    demo_scenario: str | None = None,
    environment: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> SupportReport:
    # Loaded here: the wizard imports this module before its first paint, for
    # report_environment, and needs these only once a report is made.
    import platform
    import sys

    secrets: list[str] = []
    if connection is not None:
        secrets = [connection.client_secret, connection.client_secret.strip()]
        # Whatever is in a box that did not pass its check might be the secret, pasted there.
        for raw, check in (
            (connection.tenant, check_tenant),
            (connection.client_id, check_client_id),
        ):
            if not check(raw).ok:
                secrets += [raw, raw.strip()]
    return SupportReport(
        created=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        python=sys.version.split()[0],
        operating_system=platform.platform(),
        qt_binding=qt_binding(),
        environment=dict(environment or {}),
        demo_scenario=demo_scenario,
        connection=connection,
        tenant_id=tenant_id,
        results=tuple(results),
        secrets=tuple(secrets),
    )


def support_report(
    connection: ConnectionInput | None,
    results: Sequence[CheckResult],
    *,
    tenant_id: str | None = None,
    demo_scenario: str | None = None,
    environment: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    """The report as text, for the wizard's *Copy report*."""
    return build_support_report(
        connection,
        results,
        tenant_id=tenant_id,
        demo_scenario=demo_scenario,
        environment=environment,
        now=now,
    ).text()
