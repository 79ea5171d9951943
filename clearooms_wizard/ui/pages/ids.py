from __future__ import annotations

from enum import IntEnum


class PageId(IntEnum):
    WELCOME = 0
    REGISTER = 1
    CONNECT = 2
    ROOMS = 3
    IMPORT = 4
