"""Page 1: what you need, how long it takes, and the three steps."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWizardPage

from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.widgets import Banner, Tone, plain_label


class WelcomePage(QWizardPage):
    def __init__(self, context: WizardContext) -> None:
        super().__init__()
        self.setTitle(self.tr("Connect Microsoft 365 to Clearooms"))
        self.setSubTitle(
            self.tr("This wizard links your meeting rooms' calendars to Clearooms, step by step.")
        )
        layout = QVBoxLayout(self)
        if context.demo_scenario:
            self.demo_banner = Banner(
                Tone.INFO,
                self.tr(
                    "Demo tenant: “%1” (%2). Nothing you do here touches a real Microsoft 365 "
                    "organisation."
                )
                .replace("%1", context.demo_title or context.demo_scenario)
                .replace("%2", context.demo_scenario),
            )
            layout.addWidget(self.demo_banner)
        layout.addWidget(
            plain_label(
                self.tr(
                    "You will need:\n"
                    "  • about 10 minutes;\n"
                    "  • an administrator account for Microsoft Entra ID (Azure AD), or someone "
                    "who has one: the wizard can write the instructions for them;\n"
                    "  • meeting rooms with mailboxes in Exchange Online (rooms on an "
                    "on-premises Exchange server can't be connected)."
                )
            )
        )
        layout.addWidget(
            plain_label(
                self.tr(
                    "The three steps:\n"
                    "  1. Register Clearooms as an app in Microsoft Entra ID.\n"
                    "  2. Enter the app's details here and test the connection.\n"
                    "  3. Choose your office and the rooms to import."
                )
            )
        )
        layout.addStretch(1)
