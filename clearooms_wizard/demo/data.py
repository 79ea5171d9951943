"""The demo organisation: Northwind Traders, its app registration, people and rooms.

Everything here is deterministic (identifiers come from uuid5 over stable names) so that a
support engineer and a customer running `--demo` see the same rooms with the same ids, and
tests can name rooms by email.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# The organisation's names live in `org` (light enough to load at start-up); this module keeps
# offering them, as it always has.
from clearooms_wizard.demo.org import APP_DISPLAY_NAME as APP_DISPLAY_NAME
from clearooms_wizard.demo.org import APP_ID as APP_ID
from clearooms_wizard.demo.org import APP_OBJECT_ID as APP_OBJECT_ID
from clearooms_wizard.demo.org import APP_ROLE_IDS as APP_ROLE_IDS
from clearooms_wizard.demo.org import APP_SECRET as APP_SECRET
from clearooms_wizard.demo.org import APP_SECRET_KEY_ID as APP_SECRET_KEY_ID
from clearooms_wizard.demo.org import APP_SECRET_NAME as APP_SECRET_NAME
from clearooms_wizard.demo.org import (
    APPLICATION_ADMINISTRATOR_ROLE as APPLICATION_ADMINISTRATOR_ROLE,
)
from clearooms_wizard.demo.org import DEFAULT_USER_ROLE as DEFAULT_USER_ROLE
from clearooms_wizard.demo.org import DOMAINS as DOMAINS
from clearooms_wizard.demo.org import GLOBAL_ADMINISTRATOR_ROLE as GLOBAL_ADMINISTRATOR_ROLE
from clearooms_wizard.demo.org import GRAPH_APP_ID as GRAPH_APP_ID
from clearooms_wizard.demo.org import INITIAL_DOMAIN as INITIAL_DOMAIN
from clearooms_wizard.demo.org import PREVIOUS_SECRET as PREVIOUS_SECRET
from clearooms_wizard.demo.org import PREVIOUS_SECRET_KEY_ID as PREVIOUS_SECRET_KEY_ID
from clearooms_wizard.demo.org import PREVIOUS_SECRET_NAME as PREVIOUS_SECRET_NAME
from clearooms_wizard.demo.org import PRIMARY_DOMAIN as PRIMARY_DOMAIN
from clearooms_wizard.demo.org import REQUIRED_ROLES as REQUIRED_ROLES
from clearooms_wizard.demo.org import SERVICE_PRINCIPAL_ID as SERVICE_PRINCIPAL_ID
from clearooms_wizard.demo.org import SETUP_CLIENT_ID as SETUP_CLIENT_ID
from clearooms_wizard.demo.org import SETUP_CLIENT_NAME as SETUP_CLIENT_NAME
from clearooms_wizard.demo.org import TENANT_DISPLAY_NAME as TENANT_DISPLAY_NAME
from clearooms_wizard.demo.org import TENANT_ID as TENANT_ID
from clearooms_wizard.demo.org import TENANT_REGION_SCOPE as TENANT_REGION_SCOPE
from clearooms_wizard.demo.org import UNKNOWN_CLIENT_ID as UNKNOWN_CLIENT_ID
from clearooms_wizard.demo.org import WRONG_SECRET as WRONG_SECRET
from clearooms_wizard.demo.org import AdminKey as AdminKey
from clearooms_wizard.demo.org import RoomLayout as RoomLayout
from clearooms_wizard.demo.org import room_email as room_email
from clearooms_wizard.demo.org import slugify as slugify

_NAMESPACE = uuid.UUID("5b0f3e7a-6c1d-4e2f-9a8b-7c6d5e4f3a2b")


def stable_guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key.lower()}"))


@dataclass(frozen=True)
class PasswordCredential:
    key_id: str
    display_name: str
    secret: str
    start: datetime
    end: datetime

    @property
    def hint(self) -> str:
        return self.secret[:3]

    def to_graph(self) -> dict[str, Any]:
        return {
            "customKeyIdentifier": None,
            "displayName": self.display_name,
            "endDateTime": graph_datetime(self.end),
            "hint": self.hint,
            "keyId": self.key_id,
            "secretText": None,
            "startDateTime": graph_datetime(self.start),
        }


@dataclass(frozen=True)
class AppRegistration:
    app_id: str
    object_id: str
    display_name: str
    created: datetime
    password_credentials: tuple[PasswordCredential, ...]
    required_roles: tuple[str, ...] = REQUIRED_ROLES

    def to_graph(self) -> dict[str, Any]:
        return {
            "id": self.object_id,
            "deletedDateTime": None,
            "appId": self.app_id,
            "createdDateTime": graph_datetime(self.created),
            "description": None,
            "displayName": self.display_name,
            "publisherDomain": INITIAL_DOMAIN,
            "signInAudience": "AzureADMyOrg",
            "tags": [],
            "identifierUris": [],
            "keyCredentials": [],
            "passwordCredentials": [c.to_graph() for c in self.password_credentials],
            "requiredResourceAccess": [
                {
                    "resourceAppId": GRAPH_APP_ID,
                    "resourceAccess": [
                        {"id": APP_ROLE_IDS[role], "type": "Role"} for role in self.required_roles
                    ],
                }
            ],
            "web": {"redirectUris": [], "homePageUrl": None, "logoutUrl": None},
        }


def graph_datetime(moment: datetime) -> str:
    # Graph writes UTC with milliseconds and a literal Z.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_app(
    now: datetime, *, secret_days_left: float, previous_secret: bool = True
) -> AppRegistration:
    """The app registration as it stands at `now` (secret dates are relative to it)."""
    end = now + timedelta(days=secret_days_left)
    # Whole seconds plus a fixed millisecond part: stable within a run, and shaped like Graph.
    end = end.replace(microsecond=417000)
    start = end - timedelta(days=730) if secret_days_left < 0 else now - timedelta(days=35)
    start = start.replace(microsecond=88000)
    current = PasswordCredential(APP_SECRET_KEY_ID, APP_SECRET_NAME, APP_SECRET, start, end)
    credentials: tuple[PasswordCredential, ...] = (current,)
    if previous_secret:
        old_end = (now - timedelta(days=61)).replace(microsecond=902000)
        old = PasswordCredential(
            PREVIOUS_SECRET_KEY_ID,
            PREVIOUS_SECRET_NAME,
            PREVIOUS_SECRET,
            old_end - timedelta(days=365),
            old_end,
        )
        credentials = (old, current)
    created = (now - timedelta(days=420)).replace(microsecond=0)
    return AppRegistration(APP_ID, APP_OBJECT_ID, APP_DISPLAY_NAME, created, credentials)


# --- places ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    street: str
    city: str
    state: str
    postal_code: str
    country: str

    def to_graph(self) -> dict[str, str]:
        return {
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "countryOrRegion": self.country,
            "postalCode": self.postal_code,
        }


@dataclass(frozen=True)
class Room:
    id: str
    user_id: str
    email: str
    display_name: str
    room_list: str | None
    # Real tenants have sent capacity as a JSON string, hence the union.
    capacity: int | str | None
    building: str | None
    floor_number: int | None
    floor_label: str | None
    address: Address | None
    booking_type: str = "standard"
    label: str | None = None
    audio_device: str | None = None
    video_device: str | None = None
    display_device: str | None = None
    wheelchair: bool | None = None
    # Graph has emitted both spellings; which one a room carries is part of the data.
    wheelchair_key: str = "isWheelChairAccessible"
    tags: tuple[str, ...] = ()
    geo: tuple[float, float] | None = None

    def to_graph(self) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.room",
            "id": self.id,
            "emailAddress": self.email,
            "displayName": self.display_name,
            "address": self.address.to_graph() if self.address else None,
            "geoCoordinates": (
                {
                    "latitude": self.geo[0],
                    "longitude": self.geo[1],
                    "accuracy": None,
                    "altitude": None,
                    "altitudeAccuracy": None,
                }
                if self.geo
                else None
            ),
            "phone": "",
            "nickname": self.display_name,
            "label": self.label,
            "capacity": self.capacity,
            "building": self.building,
            "floorNumber": self.floor_number,
            "floorLabel": self.floor_label,
            "bookingType": self.booking_type,
            "audioDeviceName": self.audio_device,
            "videoDeviceName": self.video_device,
            "displayDeviceName": self.display_device,
            self.wheelchair_key: self.wheelchair,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class RoomList:
    id: str
    email: str
    display_name: str
    address: Address | None

    def to_graph(self) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.roomList",
            "id": self.id,
            "displayName": self.display_name,
            "address": self.address.to_graph() if self.address else None,
            "geoCoordinates": None,
            "phone": "",
            "emailAddress": self.email,
        }


@dataclass(frozen=True)
class Person:
    id: str
    display_name: str
    given_name: str
    surname: str
    job_title: str
    email: str

    def to_graph(self) -> dict[str, Any]:
        return {
            "businessPhones": [],
            "displayName": self.display_name,
            "givenName": self.given_name,
            "jobTitle": self.job_title,
            "mail": self.email,
            "mobilePhone": None,
            "officeLocation": "London HQ",
            "preferredLanguage": "en-GB",
            "surname": self.surname,
            "userPrincipalName": self.email,
            "id": self.id,
            "accountEnabled": True,
            "userType": "Member",
        }


def room_user_graph(room: Room) -> dict[str, Any]:
    """A room mailbox as it shows up among directory users."""
    return {
        "businessPhones": [],
        "displayName": room.display_name,
        "givenName": None,
        "jobTitle": None,
        "mail": room.email,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "surname": None,
        "userPrincipalName": room.email,
        "id": room.user_id,
        # Exchange creates room mailboxes with their sign-in account disabled.
        "accountEnabled": False,
        "userType": "Member",
    }


@dataclass(frozen=True)
class Directory:
    rooms: tuple[Room, ...]
    room_lists: tuple[RoomList, ...]
    people: tuple[Person, ...]
    _rooms_by_email: dict[str, Room] = field(default_factory=dict, compare=False, repr=False)
    # Indexes, so that a tenant of 10,000 rooms answers each request without a scan.
    _rooms_by_user_id: dict[str, Room] = field(default_factory=dict, compare=False, repr=False)
    _lists_by_email: dict[str, RoomList] = field(default_factory=dict, compare=False, repr=False)
    _members: dict[str, list[Room]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._rooms_by_email.update({room.email.lower(): room for room in self.rooms})
        self._rooms_by_user_id.update({room.user_id.lower(): room for room in self.rooms})
        for room_list in self.room_lists:
            self._lists_by_email.setdefault(room_list.email.lower(), room_list)
        for room in self.rooms:
            if room.room_list:
                self._members.setdefault(room.room_list.lower(), []).append(room)

    def room(self, email: str) -> Room | None:
        return self._rooms_by_email.get(email.lower())

    def room_by_email_or_user_id(self, key: str) -> Room | None:
        lowered = key.lower()
        return self._rooms_by_email.get(lowered) or self._rooms_by_user_id.get(lowered)

    def room_list(self, email: str) -> RoomList | None:
        return self._lists_by_email.get(email.lower())

    def rooms_in(self, room_list: RoomList) -> list[Room]:
        return list(self._members.get(room_list.email.lower(), ()))


LONDON = Address("20 Tanner Street", "London", "Greater London", "SE1 3LE", "United Kingdom")
MANCHESTER = Address(
    "47 Ancoats Way", "Manchester", "Greater Manchester", "M4 6DE", "United Kingdom"
)

_LONDON_LIST = RoomList(
    stable_guid("roomlist", "rooms.london"), f"rooms.london@{PRIMARY_DOMAIN}", "London HQ", LONDON
)
_LONDON_EXEC_LIST = RoomList(
    stable_guid("roomlist", "rooms.london-level4"),
    f"rooms.london-level4@{PRIMARY_DOMAIN}",
    "London HQ - Level 4",
    LONDON,
)
_MANCHESTER_LIST = RoomList(
    stable_guid("roomlist", "rooms.manchester"),
    f"rooms.manchester@{PRIMARY_DOMAIN}",
    "Manchester Hub",
    MANCHESTER,
)

_TEAMS_ROOM = ("Logitech Rally Bar", "Logitech Rally Bar", 'LG 75" UHD')
_HUDDLE_KIT = ("Jabra Speak2 75", None, 'Samsung 55" Flip')

# (name, list, capacity, building, floor number, floor label, (audio, video, display), tags,
#  label)
_StandardRow = tuple[
    str,
    RoomList | None,
    int | str | None,
    str | None,
    int | None,
    str | None,
    tuple[str | None, str | None, str | None] | None,
    tuple[str, ...],
    str | None,
]
_STANDARD_ROOMS: tuple[_StandardRow, ...] = (
    ("Boardroom", _LONDON_LIST, 20, "London HQ", 3, "3", _TEAMS_ROOM,
     ("Teams Room", "Whiteboard"), "Executive"),
    ("Thames", _LONDON_LIST, 12, "London HQ", 3, "3", _TEAMS_ROOM, ("Teams Room",), None),
    ("Southwark", _LONDON_LIST, "8", "London HQ", 3, "3", _TEAMS_ROOM, (), None),
    ("Huddle 2.14", _LONDON_LIST, 4, "London HQ", 2, "2", _HUDDLE_KIT, (), "Huddle"),
    ("Huddle 2.15", _LONDON_LIST, 4, "London HQ", 2, "2", _HUDDLE_KIT, (), "Huddle"),
    ("Huddle 2.16", _LONDON_LIST, None, "London HQ", 2, "2", None, (), "Huddle"),
    ("Focus Room 2.03", _LONDON_LIST, 2, "London HQ", 2, "2", None, ("Quiet",), "Quiet"),
    ("Training Room", _LONDON_LIST, 30, "London HQ", 0, "Ground", _TEAMS_ROOM,
     ("Projector", "Teams Room"), None),
    ("Reception Meeting Room", _LONDON_LIST, 6, "London HQ", 0, "Ground", None, (), None),
    ("Wellbeing Room", _LONDON_LIST, 2, "London HQ", 1, "1", None, (), "Quiet"),
    ("Ada Lovelace", _LONDON_EXEC_LIST, 10, "London HQ", 4, "4", _TEAMS_ROOM,
     ("Teams Room",), "Executive"),
    ("Alan Turing", _LONDON_EXEC_LIST, "10", "London HQ", 4, "4", _TEAMS_ROOM, (), "Executive"),
    ("Grace Hopper", _LONDON_EXEC_LIST, 6, "London HQ", 4, "4", _HUDDLE_KIT, (), None),
    ("Tim Berners-Lee", _LONDON_EXEC_LIST, 8, "London HQ", 4, "4", _TEAMS_ROOM, (), None),
    ("Level 4 Phone Booth", _LONDON_EXEC_LIST, 1, "London HQ", 4, "4", None, (), "Phone booth"),
    ("Ancoats", _MANCHESTER_LIST, 14, "Manchester Hub", 1, "1", _TEAMS_ROOM,
     ("Teams Room", "Whiteboard"), None),
    ("Deansgate", _MANCHESTER_LIST, 8, "Manchester Hub", 1, "1", _TEAMS_ROOM, (), None),
    ("Piccadilly", _MANCHESTER_LIST, "6", "Manchester Hub", 1, "1", _HUDDLE_KIT, (), None),
    ("Northern Quarter", _MANCHESTER_LIST, 12, "Manchester Hub", 2, "2", _TEAMS_ROOM, (), None),
    ("Huddle M.01", _MANCHESTER_LIST, 4, "Manchester Hub", None, "Mezzanine", _HUDDLE_KIT,
     (), "Huddle"),
    ("Huddle M.02", _MANCHESTER_LIST, 4, "Manchester Hub", None, "Mezzanine", None, (), "Huddle"),
    ("Studio", _MANCHESTER_LIST, None, "Manchester Hub", 2, "2", None, ("Podcast",), None),
    # Metadata never set with Set-Place: what most rooms look like in a fresh tenant.
    ("Canal View", _MANCHESTER_LIST, 8, None, None, None, None, (), None),
    ("Old Post Room", None, None, None, None, None, None, (), None),
)  # fmt: skip


def _standard_rooms() -> tuple[Room, ...]:
    rooms = []
    for index, (name, rl, cap, building, floor, floor_label, kit, tags, label) in enumerate(
        _STANDARD_ROOMS
    ):
        email = room_email(name)
        address = LONDON if building == "London HQ" else MANCHESTER if building else None
        audio, video, display = kit or (None, None, None)
        geo = (51.5033, -0.0754) if address is LONDON else None
        rooms.append(
            Room(
                id=stable_guid("place", email).upper(),
                user_id=stable_guid("user", email),
                email=email,
                display_name=name,
                room_list=rl.email if rl else None,
                capacity=cap,
                building=building,
                floor_number=floor,
                floor_label=floor_label,
                address=address,
                booking_type="reserved" if name == "Wellbeing Room" else "standard",
                label=label,
                audio_device=audio,
                video_device=video,
                display_device=display,
                wheelchair=None if building is None else index % 4 != 3,
                wheelchair_key=(
                    "isWheelchairAccessible" if index % 3 == 2 else "isWheelChairAccessible"
                ),
                tags=tags,
                geo=geo,
            )
        )
    return tuple(rooms)


_MANY_SITES: tuple[tuple[str, str, Address], ...] = (
    ("LDN", "London HQ", LONDON),
    ("MAN", "Manchester Hub", MANCHESTER),
    (
        "EDI",
        "Edinburgh",
        Address("8 Quayside Street", "Edinburgh", "", "EH6 6EJ", "United Kingdom"),
    ),
    ("DUB", "Dublin", Address("3 Grand Canal Quay", "Dublin", "", "D02 X576", "Ireland")),
    ("AMS", "Amsterdam", Address("Keizersgracht 120", "Amsterdam", "", "1015 CW", "Netherlands")),
    ("BER", "Berlin", Address("Torstrasse 49", "Berlin", "", "10119", "Germany")),
)
_MANY_CAPACITIES: tuple[int | str | None, ...] = (4, 6, 8, 10, 12, None, "8", 2, 16, 6)


def _many_rooms() -> tuple[tuple[Room, ...], tuple[RoomList, ...]]:
    rooms: list[Room] = []
    lists: list[RoomList] = []
    for code, building, address in _MANY_SITES:
        for wing in ("North", "South"):
            list_email = f"rooms.{code.lower()}-{wing.lower()}@{PRIMARY_DOMAIN}"
            lists.append(
                RoomList(
                    stable_guid("roomlist", list_email),
                    list_email,
                    f"{building} - {wing} wing",
                    address,
                )
            )
            for n in range(100):
                floor = n // 20 + 1
                name = f"{code}-{wing[0]} {floor}.{n % 20 + 1:02d}"
                email = room_email(name)
                rooms.append(
                    Room(
                        id=stable_guid("place", email).upper(),
                        user_id=stable_guid("user", email),
                        email=email,
                        display_name=name,
                        room_list=list_email,
                        capacity=_MANY_CAPACITIES[n % len(_MANY_CAPACITIES)],
                        building=building if n % 17 else None,
                        floor_number=floor if n % 13 else None,
                        floor_label=str(floor),
                        address=address,
                        wheelchair=n % 5 != 0,
                        wheelchair_key=(
                            "isWheelchairAccessible" if n % 7 == 0 else "isWheelChairAccessible"
                        ),
                        video_device="Logitech Rally Bar" if n % 4 == 0 else None,
                    )
                )
    return tuple(rooms), tuple(lists)


HUGE_ROOM_COUNT = 10_000
_HUGE_SITES: tuple[tuple[str, str, Address], ...] = (
    *_MANY_SITES,
    ("PAR", "Paris", Address("18 Rue du Mail", "Paris", "", "75002", "France")),
    ("MAD", "Madrid", Address("Calle de Alcala 21", "Madrid", "", "28014", "Spain")),
    ("NYC", "New York", Address("250 Hudson Street", "New York", "NY", "10013", "United States")),
    ("SIN", "Singapore", Address("8 Marina View", "Singapore", "", "018960", "Singapore")),
)


def _huge_rooms() -> tuple[tuple[Room, ...], tuple[RoomList, ...]]:
    """10,000 rooms: ten sites, a room list per floor (ten floors), 100 rooms on each."""
    rooms: list[Room] = []
    lists: list[RoomList] = []
    per_list = HUGE_ROOM_COUNT // (len(_HUGE_SITES) * 10)
    for code, building, address in _HUGE_SITES:
        for floor in range(1, 11):
            list_email = f"rooms.{code.lower()}-floor{floor}@{PRIMARY_DOMAIN}"
            lists.append(
                RoomList(
                    stable_guid("roomlist", list_email),
                    list_email,
                    f"{building} - Floor {floor}",
                    address,
                )
            )
            for n in range(1, per_list + 1):
                name = f"{code} {floor}.{n:03d}"
                email = room_email(name)
                rooms.append(
                    Room(
                        id=stable_guid("place", email).upper(),
                        user_id=stable_guid("user", email),
                        email=email,
                        display_name=name,
                        room_list=list_email,
                        capacity=_MANY_CAPACITIES[n % len(_MANY_CAPACITIES)],
                        building=building,
                        floor_number=floor,
                        floor_label=str(floor),
                        address=address,
                        wheelchair=n % 5 != 0,
                        video_device="Logitech Rally Bar" if n % 4 == 0 else None,
                        tags=("Teams Room",) if n % 10 == 0 else (),
                    )
                )
    return tuple(rooms), tuple(lists)


_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Adele", "Vance", "Office Manager"),
    ("Alex", "Wilber", "IT Administrator"),
    ("Diego", "Siciliani", "Facilities Lead"),
    ("Isaiah", "Langer", "Sales Director"),
    ("Johanna", "Lorenz", "Chief Operating Officer"),
    ("Lynne", "Robbins", "Receptionist"),
    ("Megan", "Bowen", "Marketing Manager"),
    ("Nestor", "Wilke", "Finance Director"),
)


def _people() -> tuple[Person, ...]:
    people = []
    for given, surname, title in _PEOPLE:
        email = f"{given.lower()}.{surname.lower()}@{PRIMARY_DOMAIN}"
        people.append(
            Person(stable_guid("user", email), f"{given} {surname}", given, surname, title, email)
        )
    return tuple(people)


@dataclass(frozen=True)
class Administrator:
    """Someone who can sign in to the demo's Microsoft sign-in page for "Set it up for me"."""

    key: AdminKey
    id: str
    display_name: str
    username: str
    # Directory role template ids, as a token's `wids` claim carries them.
    role_ids: tuple[str, ...]


def _administrator(key: AdminKey, given: str, surname: str, *roles: str) -> Administrator:
    username = f"{given.lower()}.{surname.lower()}@{PRIMARY_DOMAIN}"
    return Administrator(
        key,
        stable_guid("user", username),
        f"{given} {surname}",
        username,
        (*roles, DEFAULT_USER_ROLE),
    )


ADMINISTRATORS: dict[AdminKey, Administrator] = {
    admin.key: admin
    for admin in (
        _administrator("global-admin", "Alex", "Wilber", GLOBAL_ADMINISTRATOR_ROLE),
        _administrator("application-admin", "Diego", "Siciliani", APPLICATION_ADMINISTRATOR_ROLE),
        _administrator("no-rights", "Adele", "Vance"),
    )
}


def build_directory(layout: RoomLayout) -> Directory:
    if layout == "none":
        return Directory((), (), _people())
    if layout == "many":
        rooms, lists = _many_rooms()
        return Directory(rooms, lists, _people())
    if layout == "huge":
        rooms, lists = _huge_rooms()
        return Directory(rooms, lists, _people())
    return Directory(
        _standard_rooms(), (_LONDON_LIST, _LONDON_EXEC_LIST, _MANCHESTER_LIST), _people()
    )
