"""The bridge between the Qt GUI and core: runs core calls off the GUI thread (QtCore only)."""
