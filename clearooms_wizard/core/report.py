"""The support report: everything support needs to help, and nothing secret.

The client secret appears only as its first three characters (the "hint" the Entra portal shows
next to each secret), and anything shaped like an access token is removed.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from clearooms_wizard import __version__
from clearooms_wizard.core.checks import CheckResult
from clearooms_wizard.core.redaction import redact
from clearooms_wizard.core.values import Checked, ConnectionInput, check_client_id, check_tenant


def _shown(raw: str, check: Callable[[str], Checked]) -> str:
    """Only a value that passed its check is shown: a box may hold a pasted secret."""
    if not raw.strip():
        return "not entered"
    checked = check(raw)
    return checked.value if checked.value else f"not valid ({len(raw.strip())} characters)"


def secret_hint(secret: str) -> str:
    if not secret:
        return "not entered"
    return f"entered, starts with “{secret[:3]}” ({len(secret)} characters)"


def support_report(
    connection: ConnectionInput | None,
    results: Sequence[CheckResult],
    *,
    tenant_id: str | None = None,
    demo_scenario: str | None = None,
    environment: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> str:
    moment = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    lines = [
        "Clearooms wizard support report",
        f"Created: {moment}",
        f"Wizard version: {__version__}",
        f"Python: {sys.version.split()[0]} on {platform.platform()}",
    ]
    for key, value in (environment or {}).items():
        lines.append(f"{key}: {value}")
    if demo_scenario:
        lines.append(f"Demo tenant scenario: {demo_scenario}")
    if connection is not None:
        cloud = connection.cloud
        lines += [
            "",
            f"Cloud: {cloud.label} ({cloud.key})",
            f"Sign-in host: {cloud.authority_host}",
            f"Graph: {cloud.graph_root}",
            f"Tenant: {_shown(connection.tenant, check_tenant)}",
            f"Tenant ID found: {tenant_id or 'not yet'}",
            f"Client ID: {_shown(connection.client_id, check_client_id)}",
            f"Client secret: {secret_hint(connection.client_secret.strip())}",
        ]
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
    return redact("\n".join(lines) + "\n", secrets)
