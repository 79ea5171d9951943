"""“Set it up for me”'s choice of which calendars the app may reach: the room mailboxes only
(recommended), or every mailbox as Clearooms' own guide sets it up."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QRadioButton, QVBoxLayout, QWidget

from clearooms_wizard.ui.widgets import plain_label


class CalendarChoice(QWidget):
    """Two choices, rooms only first and chosen. ``rooms_only`` says which is chosen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rooms_only_button = QRadioButton(self.tr("Rooms onl&y (recommended)"))
        self.all_mailboxes_button = QRadioButton(self.tr("All mailbo&xes"))
        self.rooms_only_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.rooms_only_button)
        group.addButton(self.all_mailboxes_button)
        self.rooms_only_note = plain_label(
            self.tr(
                "Clearooms can reach meeting rooms' calendars, and no one's own. Calendars."
                "ReadWrite is not granted here: your Exchange administrator runs a short script "
                "you'll get, and until then Test Settings says that step is still to do."
            )
        )
        self.all_mailboxes_note = plain_label(
            self.tr(
                "Calendars.ReadWrite is granted here, which reaches every mailbox's calendar. "
                "Nothing else to do; you can limit it to rooms later."
            )
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.rooms_only_button)
        layout.addWidget(self.rooms_only_note)
        layout.addWidget(self.all_mailboxes_button)
        layout.addWidget(self.all_mailboxes_note)
        for note in (self.rooms_only_note, self.all_mailboxes_note):
            note.setContentsMargins(22, 0, 0, 4)

    @property
    def rooms_only(self) -> bool:
        return self.rooms_only_button.isChecked()
