"""The composition root of the wizard: the one place that builds the real parts and wires them
together. ``runtime.py`` holds the half the command line shares."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from clearooms_wizard.core.clouds import CLOUDS, Cloud
from clearooms_wizard.core.logs import support_paths
from clearooms_wizard.core.preferences import PreferencesFile
from clearooms_wizard.core.secrets import SecretStore
from clearooms_wizard.display import display_problem
from clearooms_wizard.runtime import DEMO_CLOUD, ConnectionOptions, Runtime, build_runtime
from clearooms_wizard.ui.context import InitialValues, WizardContext


def wizard_clouds(options: ConnectionOptions, runtime: Runtime) -> dict[str, Cloud]:
    if runtime.scenario is not None:
        return {DEMO_CLOUD.key: DEMO_CLOUD}
    clouds = dict(CLOUDS)
    chosen = runtime.connection.cloud
    if chosen.key in clouds and clouds[chosen.key] != chosen:
        clouds[chosen.key] = chosen  # keep --authority-host / --graph-url overrides
    return clouds


def build_wizard_context(
    options: ConnectionOptions,
    open_url: Callable[[str], bool],
    env: Mapping[str, str] | None = None,
    secrets: SecretStore | None = None,
    preferences: PreferencesFile | None = None,
) -> WizardContext:
    """Everything the wizard needs, built from the real parts (or the demo tenant's).

    The use cases load the workspace, Graph and import code when they first run (on a worker
    thread), so the wizard's first page is on screen before any of it is loaded.
    """
    runtime = build_runtime(options, env, secrets)
    connection = runtime.connection
    preferences = preferences or PreferencesFile()
    return WizardContext(
        clouds=wizard_clouds(options, runtime),
        initial=InitialValues(
            connection.tenant,
            connection.client_id,
            connection.client_secret,
            connection.cloud.key,
            certificate=connection.certificate,
        ),
        preferences=preferences,
        preferences_state=preferences.load(),
        use_cases=runtime.use_cases,
        open_url=open_url,
        demo_scenario=runtime.scenario.name if runtime.scenario else None,
        demo_title=runtime.scenario.title if runtime.scenario else None,
        report_environment=support_paths(runtime.workspace_path),
        startup_notice=runtime.notice,
    )


def run_wizard(options: ConnectionOptions) -> int:
    """Open the wizard. Qt is imported only here, so the command line never loads it."""
    if problem := display_problem(os.environ):
        sys.stderr.write(f"clearooms-wizard: {problem}\n")
        return 1
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication

    from clearooms_wizard.ui.crash import install_crash_hooks
    from clearooms_wizard.ui.wizard import SetupWizard

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Clearooms setup")
    app.setOrganizationName("Clearooms")
    from clearooms_wizard.resources import APP_ID, app_icon

    app.setDesktopFileName(APP_ID)
    context = build_wizard_context(options, lambda url: bool(QDesktopServices.openUrl(QUrl(url))))
    wizard = SetupWizard(context)
    # After the first paint: the SVG icon loads Qt's SVG icon engine (about 10 ms).
    wizard.first_painted.connect(lambda: app.setWindowIcon(app_icon()))
    install_crash_hooks(wizard.crash_bridge)
    # The process lives exactly as long as the wizard, whichever window is left open (a dialog
    # without a parent would otherwise keep app.exec() going with the wizard gone).
    wizard.finished.connect(app.quit)
    wizard.show()
    return int(app.exec())
