"""Where the keyboard goes on each page: Tab through the page, then the wizard's buttons from
left to right, starting on the page's first box to fill in.

Loaded after the first paint, through the page factory: the Qt namespace it needs costs a tenth of
a cold start (see ui/widgets.py).
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QWidget,
    QWizard,
    QWizardPage,
)

_BUTTONS_LEFT_TO_RIGHT = (
    QWizard.WizardButton.CustomButton1,  # About
    QWizard.WizardButton.BackButton,
    QWizard.WizardButton.NextButton,
    QWizard.WizardButton.CommitButton,
    QWizard.WizardButton.FinishButton,
    QWizard.WizardButton.CancelButton,
)
# What a person fills in or ticks: where the keyboard starts on a page.
_INPUTS = (QLineEdit, QComboBox, QCheckBox, QAbstractItemView)


def arrange_keyboard(wizard: QWizard) -> None:
    """Tab through the page, then the buttons from left to right; start on the page's
    first input. QWizard puts About after Cancel in the Tab order, though it stands
    left of Back, and it sets that order again on every page, hence here."""
    buttons = [wizard.button(which) for which in _BUTTONS_LEFT_TO_RIGHT]
    for before, after in itertools.pairwise(buttons):
        QWidget.setTabOrder(before, after)
    _focus_first_input(wizard)


def _focus_first_input(wizard: QWizard) -> None:
    """Put the keyboard on the page's first box to fill in or tick, in reading order, or
    on Next (or Finish) where there is none. QWizard gives the focus to the first widget
    in the page's focus chain, which may be a hidden one (a Stop button), and then the
    keys typed went nowhere."""
    # None between pages, though the binding's type says otherwise.
    page: QWizardPage | None = wizard.currentPage()
    if page is None:
        return
    inputs = [
        widget
        for widget in page.findChildren(QWidget)
        if isinstance(widget, _INPUTS)
        and widget.isVisibleTo(page)
        and widget.isEnabled()
        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
    ]
    if inputs:

        def reading_order(widget: QWidget) -> tuple[int, int]:
            place = widget.mapTo(page, QPoint(0, 0))
            return place.y(), place.x()

        min(inputs, key=reading_order).setFocus()
        return
    for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.FinishButton):
        button = wizard.button(which)
        if button.isVisible() and button.isEnabled():
            button.setFocus()
            return
