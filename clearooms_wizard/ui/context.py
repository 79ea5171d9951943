"""What the wizard is given by the composition root: the use cases, and what to start with.

The pages call the use cases that touch the network, the disk or the keyring only inside worker
tasks; the UI itself never imports requests, msal or keyring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: the wizard's first page is shown before any of these modules is loaded.
    from clearooms_wizard.core.certificates import CertificateCredential
    from clearooms_wizard.core.clouds import Cloud
    from clearooms_wizard.core.preferences import Preferences, PreferencesFile
    from clearooms_wizard.core.usecases import UseCases


@dataclass(frozen=True)
class InitialValues:
    tenant: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    cloud: str = "global"
    # The saved certificate, when the connection signs in with one instead of a secret.
    certificate: CertificateCredential | None = field(default=None, repr=False)


@dataclass(frozen=True)
class WizardContext:
    clouds: Mapping[str, Cloud]
    initial: InitialValues
    preferences: PreferencesFile
    # Loaded once at start (off the GUI thread) and written back when the wizard closes.
    preferences_state: Preferences
    # What the pages do: the same use cases the command line calls. Every one that touches
    # the network, the disk or the keyring runs inside a worker task.
    use_cases: UseCases
    open_url: Callable[[str], bool]
    demo_scenario: str | None = None
    demo_title: str | None = None
    report_environment: Mapping[str, str] = field(default_factory=dict)
    # Shown on the Connect page when the wizard opens (for example: the keyring is locked).
    startup_notice: str | None = None
