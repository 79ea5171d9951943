"""The Connect page's access keys stay unique when its extra buttons show: “Renew the secret…”
beside the wizard's Next, and “Remove the tenant-wide calendar permission…” beside “Sign in
with”. A shared Alt key only moves the focus between the two widgets instead of pressing one."""

from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from clearooms_wizard.ui.wizard import SetupWizard
from tests.conftest import ServeDemo
from tests.support.scripted_browser import ScriptedBrowser, registered
from tests.ui.conftest import MakeWizard
from tests.ui.test_connect_page import go_to_connect, run_test
from tests.ui.test_set_it_up_for_me import create, sign_in, wait_for_connect_tested


def _access_keys(wizard: SetupWizard) -> Counter[str]:
    """The Alt keys of the visible buttons, and of the labels that lead to a box."""
    keys: Counter[str] = Counter()
    for widget in wizard.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, QAbstractButton) or (
            isinstance(widget, QLabel) and widget.buddy() is not None
        ):
            mnemonic = QKeySequence.mnemonic(widget.text()).toString()
            if mnemonic:
                keys[mnemonic] += 1
    return keys


def _shared(wizard: SetupWizard) -> list[str]:
    return [key for key, count in _access_keys(wizard).items() if count > 1]


def test_renew_beside_next_keeps_alt_n_for_next(qtbot: QtBot, make_wizard: MakeWizard) -> None:
    wizard = make_wizard(demo="secret-expiring")
    go_to_connect(wizard)
    page = wizard.connect_page
    run_test(qtbot, wizard)
    assert page.renew_button.isVisible()
    assert _shared(wizard) == []


def test_the_grant_removal_offer_has_a_key_of_its_own(
    qtbot: QtBot, make_wizard: MakeWizard, serve_demo: ServeDemo
) -> None:
    served = serve_demo("healthy")
    with registered(ScriptedBrowser(served.ca_bundle)):
        wizard = make_wizard(served)
        setup = sign_in(qtbot, wizard)
        create(qtbot, wizard, setup)
        wait_for_connect_tested(qtbot, wizard)
    page = wizard.connect_page
    assert page.remove_grant_button.isVisible()
    assert _shared(wizard) == []
