"""Builds the wizard's pages: the first one at once, the others just after it is on screen.

This is the one place that pays for a quick first paint. The pages after Welcome bring in the
Graph, import and workspace code and PySide's ``Qt`` namespace (tens of milliseconds on a cold
start), so their modules are imported inside :func:`build_later_pages`, which the wizard calls
after the first paint; everything else imports at the top of its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWizard

from clearooms_wizard.ui.context import WizardContext
from clearooms_wizard.ui.pages.welcome import WelcomePage
from clearooms_wizard.ui.plurals import install_english_plurals
from clearooms_wizard.ui.state import WizardState
from clearooms_wizard.workers.runner import TaskRunner

if TYPE_CHECKING:
    from clearooms_wizard.ui.pages.connect import ConnectPage
    from clearooms_wizard.ui.pages.import_ import ImportPage
    from clearooms_wizard.ui.pages.register import RegisterPage
    from clearooms_wizard.ui.pages.rooms import RoomsPage


class LaterPages(NamedTuple):
    register: RegisterPage
    connect: ConnectPage
    rooms: RoomsPage
    import_: ImportPage


def build_first_page(context: WizardContext) -> WelcomePage:
    return WelcomePage(context)


def build_later_pages(context: WizardContext, state: WizardState, runner: TaskRunner) -> LaterPages:
    from clearooms_wizard.ui.pages.connect import ConnectPage
    from clearooms_wizard.ui.pages.import_ import ImportPage
    from clearooms_wizard.ui.pages.register import RegisterPage
    from clearooms_wizard.ui.pages.rooms import RoomsPage

    app = QCoreApplication.instance()
    if app is not None:
        # Before the pages are built: they count things from their first words on.
        install_english_plurals(app)
    return LaterPages(
        RegisterPage(context, state, runner),
        ConnectPage(context, state, runner),
        RoomsPage(context, state, runner),
        ImportPage(context, state, runner),
    )


def arrange_keyboard(wizard: QWizard) -> None:
    """Tab order and first focus for the wizard's current page (see ui/keyboard.py); only
    after the first paint."""
    from clearooms_wizard.ui.keyboard import arrange_keyboard

    arrange_keyboard(wizard)
