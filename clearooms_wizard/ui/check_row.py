"""One Test Settings check on the Connect page: its badge, result, fix and technical details."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from clearooms_wizard.ui.widgets import Tone, ToneBadge, plain_label

if TYPE_CHECKING:
    from clearooms_wizard.core.checks import CheckResult

# Keyed by the check statuses' values (Status is a StrEnum).
STATUS_WORDS = {"pass": "Passed", "warn": "Warning", "fail": "Failed", "skip": "Skipped"}


class CheckRow(QWidget):
    """One Test Settings check: icon, title, one-line result, fix, and folded technical details."""

    def __init__(self, check_id: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check_id = check_id
        self.title = title
        self.result: CheckResult | None = None
        self._icon = ToneBadge()
        self._title = plain_label(title)
        bold = self._title.font()
        bold.setBold(True)
        self._title.setFont(bold)
        self.detail = plain_label("", selectable=True)
        self.fix = plain_label("", selectable=True)
        self._details_button = QToolButton()
        self._details_button.setText(self.tr("Technical details"))
        self._details_button.setCheckable(True)
        self._details_button.setArrowType(Qt.ArrowType.RightArrow)
        self._details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._details_button.setAutoRaise(True)
        self._details_button.setAccessibleName(
            self.tr("Technical details for: %1").replace("%1", title)
        )
        self._details_button.toggled.connect(self._toggle_details)
        self.technical = plain_label("", selectable=True)
        small = self.technical.font()
        small.setPointSizeF(max(small.pointSizeF() * 0.9, 7.0))
        self.technical.setFont(small)

        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self._title)
        text.addWidget(self.detail)
        text.addWidget(self.fix)
        text.addWidget(self._details_button, 0, Qt.AlignmentFlag.AlignLeft)
        text.addWidget(self.technical)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.reset()

    def reset(self) -> None:
        self.result = None
        self._set_icon(Tone.WAIT)
        self.detail.setText(self.tr("Not tested yet."))
        self.fix.hide()
        self._details_button.hide()
        self._details_button.setChecked(False)
        self.technical.hide()
        self.setAccessibleName(f"{self.title}: {self.tr('not tested yet')}")

    def waiting(self) -> None:
        self._set_icon(Tone.WAIT)
        self.detail.setText(self.tr("Testing…"))

    def show_result(self, result: CheckResult) -> None:
        self.result = result
        self._set_icon(Tone(result.status.value))
        word = self.tr(STATUS_WORDS[result.status])
        self.detail.setText(result.detail)
        if result.fix:
            self.fix.setText(self.tr("What to do: ") + result.fix)
            self.fix.show()
        else:
            self.fix.hide()
        technical = []
        if result.code:
            technical.append(f"code: {result.code}")
        technical += [f"{key}: {value}" for key, value in sorted(result.details.items())]
        technical.append(f"time: {result.timestamp}")
        self.technical.setText("\n".join(technical))
        self._details_button.setVisible(result.status in ("fail", "warn"))
        self.setAccessibleName(f"{self.title}: {word}. {result.detail}")

    def _set_icon(self, tone: Tone) -> None:
        self._icon.set_tone(tone)

    @Slot(bool)
    def _toggle_details(self, shown: bool) -> None:
        self.technical.setVisible(shown)
        self._details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
