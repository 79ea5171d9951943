"""The names the operating system's folders are made from (platformdirs)."""

APP_NAME = "ClearoomsWizard"
APP_AUTHOR = "Clearooms"
