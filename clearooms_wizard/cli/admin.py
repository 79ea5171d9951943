"""An administrator's sign-in on the command line, shared by ``register`` and ``secret``: in
the browser, or on another device with a code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from clearooms_wizard.core.app_setup import DeviceCodePrompt, SignInMethod
from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.safetext import printable

if TYPE_CHECKING:
    from clearooms_wizard.core.admin_signin import AdminSession
    from clearooms_wizard.core.clouds import Cloud
    from clearooms_wizard.core.usecases import UseCases


def sign_in_admin(
    use_cases: UseCases,
    cloud: Cloud,
    cancel: CancelToken,
    *,
    tenant: str | None,
    device_code: bool,
    tell: Callable[[str], None],
) -> AdminSession:
    """Sign an administrator in, saying what to do on the way; the caller has said why."""
    if not device_code:
        tell("Opening the browser… (Ctrl+C to stop)\n")

    def show_code(prompt: DeviceCodePrompt) -> None:
        minutes = max(1, round((prompt.expires_at - datetime.now().timestamp()) / 60))
        tell(
            f"To sign in, open {printable(prompt.verification_uri)} on any device and enter the "
            f"code {printable(prompt.user_code)} (it works for about {minutes} minutes). "
            "Waiting… (Ctrl+C to stop)\n"
        )

    method = SignInMethod.DEVICE_CODE if device_code else SignInMethod.BROWSER
    return use_cases.sign_in_admin(cloud, method, cancel, tenant=tenant, on_device_code=show_code)
