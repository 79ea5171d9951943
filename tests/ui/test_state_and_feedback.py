"""The wizard state's notices, counted text in English, and how failures are put into words."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QApplication

from clearooms_wizard.core.clouds import CLOUDS
from clearooms_wizard.core.errors import ClearoomsError
from clearooms_wizard.core.fixes import Explanation
from clearooms_wizard.ui.pages.base import error_text
from clearooms_wizard.ui.plurals import EnglishPlurals, install_english_plurals
from clearooms_wizard.ui.state import WizardState


def test_a_notice_is_shown_once(qapp: QApplication) -> None:
    state = WizardState(CLOUDS["global"])
    assert state.take_notice() is None
    state.post_notice("No keyring on this computer.")
    assert state.take_notice() == "No keyring on this computer."
    assert state.take_notice() is None


def test_counted_text_reads_as_english(qapp: QApplication) -> None:
    install_english_plurals(qapp)
    install_english_plurals(qapp)  # once is enough, however often it is asked
    assert len(qapp.findChildren(EnglishPlurals)) == 1
    speaker = QObject()
    assert speaker.tr("%n room(s) added", "", 1) == "1 room added"
    assert speaker.tr("%n room(s) added", "", 0) == "0 rooms added"
    assert speaker.tr("%n room(s) added", "", 12) == "12 rooms added"
    assert QCoreApplication.translate("Any", "%n check(s) failed.", None, 2) == "2 checks failed."
    # Text that is not counted is left alone, "(s)" and all.
    assert speaker.tr("Saved (s) here") == "Saved (s) here"


def test_a_failure_in_words() -> None:
    own = ClearoomsError("Could not save to /x (Permission denied). Choose another folder.")
    assert error_text(own) == str(own)

    def explain(error: ClearoomsError) -> tuple[Explanation, str | None]:
        return Explanation("Microsoft refused.", "Ask your admin."), "AADSTS7000215"

    assert error_text(own, explain) == "Microsoft refused. Ask your admin. (AADSTS7000215)"
    assert error_text(RuntimeError("odd"), explain) == "odd"
