"""The demo organisation: Northwind Traders, its app registration, people and rooms.

Everything here is deterministic (identifiers come from uuid5 over stable names) so that a
support engineer and a customer running `--demo` see the same rooms with the same ids, and
tests can name rooms by email.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

RoomLayout = Literal["standard", "none", "many"]

_NAMESPACE = uuid.UUID("5b0f3e7a-6c1d-4e2f-9a8b-7c6d5e4f3a2b")


def stable_guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key.lower()}"))


# --- organisation ----------------------------------------------------------------------------

TENANT_ID = "6f0c2b8e-3d1a-4c57-9b2e-8a4d1f7e5c93"
TENANT_DISPLAY_NAME = "Northwind Traders (demo)"
INITIAL_DOMAIN = "northwind-demo.onmicrosoft.com"
PRIMARY_DOMAIN = "northwind-demo.com"
DOMAINS: tuple[str, ...] = (INITIAL_DOMAIN, PRIMARY_DOMAIN)
TENANT_REGION_SCOPE = "EU"

# --- Microsoft Graph application permissions (app role ids from the Graph service principal) ---

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
APP_ROLE_IDS: dict[str, str] = {
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
    "Place.Read.All": "913b9306-0ce1-42b8-9137-6a7df690a760",
    "Calendars.Read": "798ee544-9d2d-430c-a058-570e29e34338",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
}
REQUIRED_ROLES: tuple[str, ...] = ("Calendars.ReadWrite", "Directory.Read.All", "Place.Read.All")

# --- the registered app ------------------------------------------------------------------------

APP_ID = "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41"
APP_OBJECT_ID = "d2e8f4a1-6b3c-4e97-8a05-f1c7b9d3e620"
SERVICE_PRINCIPAL_ID = "9a4c7e21-5d8b-4f03-a6e2-b18d3c5f7a94"
APP_DISPLAY_NAME = "Clearooms Calendar Integration"

# Shaped like a real Entra secret value (40 chars, contains `~`); the hint is its first three.
APP_SECRET = "Nw8~Qe5Rt.Yk2vLp9_Hs3Dj6Fg1Zx4Cb7Nm0Wa3U"
APP_SECRET_KEY_ID = "4e1b9c7a-2f5d-4a86-b3e9-7c0d5a1f8b26"
APP_SECRET_NAME = "Clearooms wizard"
# An earlier secret left to expire, as happens in real tenants; its different hint is what
# lets a client tell the secret it uses apart from the stale one.
PREVIOUS_SECRET = "Kp4~Vb8Nm.Cx1zLq6_Wr2Et9Yu5Io3Pa7Sd0Fg4H"
PREVIOUS_SECRET_KEY_ID = "b83f0d6e-1a7c-4c29-8e54-2d9f6a0b7c13"
PREVIOUS_SECRET_NAME = "Clearooms (first setup)"
# A valid-looking secret that belongs to no credential of the app.
WRONG_SECRET = "Tq7~Lm3Xc.Bv9nKj2_Hg5Fd8Sa1Zp4Ow6Ie0Ru7Y"
# A client id that is registered nowhere in the demo tenant.
UNKNOWN_CLIENT_ID = "5c3e8a1f-7d2b-4e69-b0a4-9f1c6d8e2b37"


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
    }


@dataclass(frozen=True)
class Directory:
    rooms: tuple[Room, ...]
    room_lists: tuple[RoomList, ...]
    people: tuple[Person, ...]
    _rooms_by_email: dict[str, Room] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._rooms_by_email.update({room.email.lower(): room for room in self.rooms})

    def room(self, email: str) -> Room | None:
        return self._rooms_by_email.get(email.lower())

    def room_list(self, email: str) -> RoomList | None:
        wanted = email.lower()
        return next((rl for rl in self.room_lists if rl.email.lower() == wanted), None)

    def rooms_in(self, room_list: RoomList) -> list[Room]:
        key = room_list.email.lower()
        return [r for r in self.rooms if r.room_list and r.room_list.lower() == key]


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def room_email(name: str) -> str:
    return f"room.{slugify(name)}@{PRIMARY_DOMAIN}"


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


def build_directory(layout: RoomLayout) -> Directory:
    if layout == "none":
        return Directory((), (), _people())
    if layout == "many":
        rooms, lists = _many_rooms()
        return Directory(rooms, lists, _people())
    return Directory(
        _standard_rooms(), (_LONDON_LIST, _LONDON_EXEC_LIST, _MANCHESTER_LIST), _people()
    )


STANDARD_ROOM_EMAILS: tuple[str, ...] = tuple(room_email(row[0]) for row in _STANDARD_ROOMS)
