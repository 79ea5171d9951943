"""Generated bad input for the reliability suite: strategies and the properties they must keep.

The same properties run in CI (tests/reliability/test_fuzz.py, a few hundred cases) and in the
benchmark-style run (tests/reliability/fuzz_all.py, at least 10,000 cases). Each property
counts its cases in ``REPORT`` under "generated cases: …".

The strategies include the triggers of every product defect the suites found (D2 to D8 in
tests/reliability/README.md): all are fixed, so nothing is left out.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import sqlite3
import string
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from clearooms_wizard.core.values import Checked, check_client_id, check_secret, check_tenant
from clearooms_wizard.demo import DemoResponse
from tests.support.reliability import REPORT

SCALE = float(os.environ.get("CLEAROOMS_FUZZ_SCALE", "1"))


def examples(default: int) -> int:
    """How many cases a property gets: ``default`` in CI, scaled up by the runner."""
    return max(1, round(default * SCALE))


def counted(name: str) -> None:
    REPORT.count(f"generated cases: {name}")


# -- the three fields ---------------------------------------------------------------------------

# What the product documents as tidied away anywhere in a value (values.py).
INVISIBLE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
RTL = ["\u200f", "\u202b", "\u202e", "\u2067", "\u061c", "\u05d0", "\u0627"]
CONTROLS = [chr(c) for c in range(32)] + ["\x7f", "\x85"]
SPACES = [" ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000"]
QUOTES = ['"', "'", "`", "\u2018\u2019", "\u201c\u201d", "\u00ab\u00bb"]
FRAGMENTS = [
    "/",
    "../",
    "..",
    "?",
    "#",
    "%",
    "%2F",
    "%2e%2e",
    "\\",
    ":",
    "@",
    "&",
    "=",
    "+",
    ";",
    "https://",
    "http://",
    "file:///",
    "//",
    "/oauth2/v2.0/token",
    "/.well-known/",
    "?x=1&y=2",
    "#@contoso.onmicrosoft.com",
    "javascript:",
    "<script>",
    "'; DROP TABLE",
]

junk_text = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(INVISIBLE + RTL + CONTROLS + SPACES + QUOTES), max_size=20).map(
        "".join
    ),
    st.lists(st.sampled_from(FRAGMENTS + INVISIBLE + SPACES), max_size=12).map("".join),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=8), st.integers(100, 1500)),
)


def _guid_text(value: uuid.UUID, upper: bool, braces: bool) -> str:
    text = str(value).upper() if upper else str(value)
    return "{" + text + "}" if braces else text


guids = st.builds(_guid_text, st.uuids(), st.booleans(), st.booleans())
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_label, min_size=1, max_size=3),
    st.from_regex(r"[a-z]{2,8}", fullmatch=True),
)
SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"
secrets_ = st.text(st.sampled_from(SECRET_ALPHABET), min_size=16, max_size=64)


@st.composite
def pasted(draw: st.DrawFn, value: str, quotes: bool = True) -> str:
    """``value`` as people paste it: invisible characters anywhere, spaces, line breaks and
    control characters around it, maybe in quotes."""
    chars = list(value)
    for _ in range(draw(st.integers(0, 3))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(INVISIBLE)))
    text = "".join(chars)
    edges = SPACES + CONTROLS[:10]
    around = st.lists(st.sampled_from(edges), max_size=3).map("".join)
    if quotes and draw(st.booleans()):
        pair = draw(st.sampled_from(QUOTES))
        text = pair[0] + draw(around) + text + draw(around) + pair[-1]
    return draw(around) + text + draw(around)


def canonical_tenant(raw: str) -> str:
    return raw.strip("{}").lower()


@st.composite
def valid_tenants(draw: st.DrawFn) -> tuple[str, str]:
    """(what is pasted, what it must be tidied to)."""
    if draw(st.booleans()):
        value = draw(guids)
        expected = canonical_tenant(value)
    else:
        expected = draw(domains)
        value = "".join(c.upper() if draw(st.booleans()) else c for c in expected)
    form = draw(st.sampled_from(["plain", "login", "discovery", "portal", "line"]))
    if form == "login":
        value = f"https://login.microsoftonline.com/{value.strip('{}')}/oauth2/v2.0/token"
    elif form == "discovery":
        value = f"https://login.microsoftonline.com/{value.strip('{}')}/v2.0/.well-known/x"
    elif form == "portal" and "." in expected:
        value = f"https://portal.azure.com/#@{value}/resource/subscriptions"
    elif form == "line" and "-" in expected and "." not in expected:
        value = f"Directory (tenant) ID: {value}"
    return draw(pasted(value)), expected


@st.composite
def valid_client_ids(draw: st.DrawFn) -> tuple[str, str]:
    value = draw(guids)
    expected = canonical_tenant(value)
    form = draw(st.sampled_from(["plain", "url", "line"]))
    if form == "url":
        value = f"https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/appId/{expected}"
    elif form == "line":
        value = f"Application (client) ID: {value}"
    return draw(pasted(value)), expected


@st.composite
def valid_secrets(draw: st.DrawFn) -> tuple[str, str]:
    secret = draw(secrets_)
    return draw(pasted(secret, quotes=False)), secret


_SAFE_TENANT = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"
    r"[a-z0-9-]+(?:\.[a-z0-9-]+)+)$"
)
_SAFE_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_fields_are_safe(raw: str) -> None:
    """Any text in any of the three boxes: no exception, and an accepted value is one that is
    safe to put in a URL path or a form (nothing that could change where a request goes)."""
    counted("three fields: any text, never an exception, only safe values accepted")
    results: list[tuple[str, Checked]] = [
        ("tenant", check_tenant(raw)),
        ("client_id", check_client_id(raw)),
        ("secret", check_secret(raw)),
    ]
    for name, checked in results:
        assert (checked.value is None) == (checked.problem is not None), (name, checked)
        if checked.problem is not None:
            assert checked.problem.strip(), name
        if not checked.ok:
            continue
        value = checked.value
        assert value is not None
        if name == "tenant":
            assert _SAFE_TENANT.match(value), (name, value)
        elif name == "client_id":
            assert _SAFE_GUID.match(value), (name, value)
        else:
            assert 1 <= len(value) <= 256
            assert not any(unicodedata.category(c) in {"Cc", "Zs"} for c in value), value
            assert not any(c in INVISIBLE for c in value), value
    secret = results[2][1]
    stripped = raw.strip()
    if secret.problem and len(stripped) >= 12:
        assert stripped not in secret.problem, "the secret's message quotes the secret back"


def check_valid_is_accepted(
    tenant: tuple[str, str], client_id: tuple[str, str], secret: tuple[str, str]
) -> None:
    counted("three fields: valid values pasted untidily are accepted as tidied")
    for check, (raw, expected) in (
        (check_tenant, tenant),
        (check_client_id, client_id),
        (check_secret, secret),
    ):
        checked = check(raw)
        assert checked.ok and checked.value == expected, (raw, expected, checked)


# -- Graph payloads -------------------------------------------------------------------------------

EMAIL_POOL = ["room1@contoso.com", "Room2@Contoso.com", "r3@x.io", "board.room@ex.org"]
MARKUP = [
    "<b>Board</b>",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-1+1",
    "Room\x00Null",
    "Ro\u202eom",
    "\u0627\u0644\u063a\u0631\u0641\u0629",
    "🙂 Room",
    "\ufeffBOM",
    "a\r\nb",
    "&amp;&lt;",
    "${jndi:ldap://x}",
    "%s%n%x",
]


def _case(text: str, flips: Sequence[bool]) -> str:
    return "".join(c.swapcase() if i < len(flips) and flips[i] else c for i, c in enumerate(text))


pool_emails = st.builds(
    lambda e, flips, pad: pad[0] + _case(e, flips) + pad[1],
    st.sampled_from(EMAIL_POOL),
    st.lists(st.booleans(), max_size=30),
    st.sampled_from([("", ""), (" ", ""), ("", "\t"), ("\u00a0", " ")]),
)
emails = st.one_of(
    pool_emails,
    st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=10), st.text(max_size=10)),
    st.text(max_size=12),
)


def names() -> st.SearchStrategy[str]:
    odd: Any = ["Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cs"]
    return st.one_of(
        st.text(max_size=40),
        st.text(st.characters(categories=odd), max_size=10),
        st.sampled_from(MARKUP),
        st.builds(lambda s, n: s * n, st.sampled_from(["x", "Ω", "<b>"]), st.integers(500, 5000)),
    )


def numbers() -> st.SearchStrategy[Any]:
    ints = st.integers()
    floats = st.floats()
    texts = ints.map(str) | st.sampled_from(["12", " 8 ", "x", "1e3", "", "NaN", "-0"])
    return st.one_of(ints, floats, texts)


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), numbers(), names())


def values() -> st.SearchStrategy[Any]:
    leaf = scalars()
    return st.one_of(
        leaf,
        st.lists(leaf, max_size=3),
        st.dictionaries(st.text(max_size=6), leaf, max_size=3),
    )


ROOM_KEYS = (
    "displayName",
    "id",
    "capacity",
    "building",
    "floorNumber",
    "floorLabel",
    "bookingType",
    "isWheelChairAccessible",
    "isWheelchairAccessible",
    "audioDeviceName",
    "videoDeviceName",
    "displayDeviceName",
    "displayDevice",
    "tags",
    "nickname",
    "address",
    "@odata.type",
)


def room_items() -> st.SearchStrategy[dict[str, Any]]:
    """A room as Graph might send it: any field missing, of the wrong type, or odd (numbers
    beyond 64 bits, lone surrogates, addresses that are not addresses); extra fields; emails
    from a small pool in any case, so the same room comes back differently."""
    fields = {key: values() for key in ROOM_KEYS}
    fields["capacity"] = numbers() | st.none()
    fields["floorNumber"] = numbers() | st.none()
    fields["displayName"] = names() | scalars()
    return st.builds(
        lambda known, email, extra: {**extra, **known, **email},
        st.fixed_dictionaries({}, optional=fields),
        st.one_of(st.just({}), st.fixed_dictionaries({"emailAddress": emails | scalars()})),
        st.dictionaries(st.text(max_size=8), values(), max_size=2),
    )


@dataclass(frozen=True)
class Page:
    value: Any  # a list of items, or something else (a wrong type)
    next: Any  # None (absent), ("page", k), "self", "foreign", or a raw value
    count: Any  # None (absent) or a raw value


@st.composite
def page_scripts(draw: st.DrawFn, page_size: int) -> list[Page]:
    """A few pages of rooms linked in any way: to each other, to themselves, in cycles, to
    another host, or with next links of the wrong type; some full pages without a link."""
    n = draw(st.integers(1, 4))
    pages: list[Page] = []
    for _ in range(n):
        items = draw(st.lists(room_items() | scalars(), max_size=page_size))
        value: Any = items if draw(st.integers(0, 9)) else draw(scalars())
        link = draw(
            st.one_of(
                st.none(),
                st.tuples(st.just("page"), st.integers(0, n - 1)),
                st.sampled_from(["self", "foreign"]),
                scalars(),
            )
        )
        count = draw(st.none() | st.integers(-1, 30) | st.text(max_size=4))
        pages.append(Page(value, link, count))
    return pages


# -- workspace files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceFile:
    kind: str
    name: str
    build: Callable[[Path, bytes], bytes]  # writes nothing; returns the file's bytes

    def __repr__(self) -> str:
        return f"WorkspaceFile({self.kind!r}, {self.name!r})"


def _sqlite_bytes(folder: Path, setup: Callable[[sqlite3.Connection], None]) -> bytes:
    path = folder / f"build-{uuid.uuid4().hex}.sqlite3"
    db = sqlite3.connect(path)
    try:
        setup(db)
        db.commit()
    finally:
        db.close()
    data = path.read_bytes()
    path.unlink()
    return data


@st.composite
def workspace_files(draw: st.DrawFn) -> WorkspaceFile:
    """What may be found where the workspace should be."""
    kind = draw(
        st.sampled_from(
            [
                "random bytes",
                "sqlite header + random",
                "truncated",
                "bytes changed",
                "foreign schema",
                "newer version",
                "empty",
            ]
        )
    )
    name = draw(st.sampled_from(["workspace.sqlite3", "workspace.db", "Notes.docx", "ws"]))
    if kind == "random bytes":
        blob = draw(st.binary(max_size=6000))
        return WorkspaceFile(kind, name, lambda folder, good: blob)
    if kind == "sqlite header + random":
        blob = b"SQLite format 3\x00" + draw(st.binary(max_size=6000))
        return WorkspaceFile(kind, name, lambda folder, good: blob)
    if kind == "truncated":
        fraction = draw(st.floats(0, 1, exclude_max=True))
        return WorkspaceFile(kind, name, lambda folder, good: good[: int(len(good) * fraction)])
    if kind == "bytes changed":
        changes = draw(
            st.lists(
                st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=64)),
                min_size=1,
                max_size=6,
            )
        )

        def changed(folder: Path, good: bytes) -> bytes:
            data = bytearray(good)
            for where, blob in changes:
                at = int(len(data) * where)
                data[at : at + len(blob)] = blob
            return bytes(data)

        return WorkspaceFile(kind, name, changed)
    if kind == "foreign schema":
        tables = draw(
            st.lists(
                st.sampled_from(
                    ["moz_places", "connection", "office", "room", "t", "notes", "sqlite_stat9x"]
                ),
                max_size=3,
                unique=True,
            )
        )
        version = draw(st.integers(0, 3) | st.integers(-(2**31), 2**31 - 1))
        app_id = draw(st.sampled_from([0, 0x436C526D, 0x0F0F0F0F, -1]))

        def foreign(folder: Path, good: bytes) -> bytes:
            def setup(db: sqlite3.Connection) -> None:
                for table in tables:
                    if table.startswith("sqlite_"):
                        continue
                    db.execute(f"CREATE TABLE {table} (a TEXT, b INTEGER)")
                    db.execute(f"INSERT INTO {table} VALUES ('x', 1)")
                db.execute(f"PRAGMA user_version = {version}")
                db.execute(f"PRAGMA application_id = {app_id}")

            return _sqlite_bytes(folder, setup)

        return WorkspaceFile(kind, name, foreign)
    if kind == "newer version":
        ahead = draw(st.integers(1, 1000))

        def newer(folder: Path, good: bytes) -> bytes:
            path = folder / f"newer-{uuid.uuid4().hex}.sqlite3"
            path.write_bytes(good)
            db = sqlite3.connect(path)
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            db.execute(f"PRAGMA user_version = {version + ahead}")
            db.close()
            data = path.read_bytes()
            path.unlink()
            return data

        return WorkspaceFile(kind, name, newer)
    return WorkspaceFile(kind, name, lambda folder, good: b"")


def dump_json_ascii(payload: Any) -> bytes:
    """JSON as a server sends it; escapes keep lone surrogates sendable."""
    return json.dumps(payload, ensure_ascii=True).encode("ascii")


# -- identity answers -----------------------------------------------------------------------------

# Past IDENTITY_ANSWER_LIMIT (1 MB), and quick to send over loopback.
OVERSIZED = 2_000_000


def nested_json(depth: int = 100_000) -> bytes:
    """Valid JSON nested far beyond what Python's parser recurses into."""
    return b'{"a":' * depth + b"1" + b"}" * depth


def _without(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda answer: {k: v for k, v in answer.items() if k != key}


def _with(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda answer: {**answer, key: value}


def _token_as(change: Callable[[str], Any]) -> Callable[[dict[str, Any]], Any]:
    return lambda answer: {**answer, "access_token": change(answer["access_token"])}


@dataclass(frozen=True)
class IdentityAnswer:
    """A malformed answer from discovery or the token endpoint, in place of the real one:
    ``change`` edits the real answer's JSON, or ``raw`` replaces its body."""

    endpoint: str  # "discovery" or "token"
    name: str
    change: Callable[[dict[str, Any]], Any] | None = None
    raw: bytes | None = None
    # The code the user is shown for it.
    code: str = "unexpected_response"
    gzipped: bool = False

    def __repr__(self) -> str:
        return f"IdentityAnswer({self.endpoint!r}, {self.name!r})"

    def body(self, real: bytes) -> bytes:
        if self.raw is not None:
            return self.raw
        assert self.change is not None
        return json.dumps(self.change(json.loads(real))).encode("utf-8")

    def rewrite(self, response: DemoResponse) -> DemoResponse:
        """For ``HookedTenant.rewrite``: a successful answer becomes this one."""
        if response.outcome != "respond" or response.status != 200:
            return response
        headers = {**response.headers, "Content-Type": "application/json; charset=utf-8"}
        body = self.body(response.body)
        if self.gzipped:
            headers["Content-Encoding"] = "gzip"
            body = gzip.compress(body)
        return DemoResponse(200, headers, body)


MALFORMED_IDENTITY_ANSWERS = (
    IdentityAnswer("discovery", "an empty object", lambda answer: {}),
    IdentityAnswer("discovery", "a list", lambda answer: [answer]),
    IdentityAnswer("discovery", "no authorization_endpoint", _without("authorization_endpoint")),
    IdentityAnswer("discovery", "no token_endpoint", _without("token_endpoint")),
    IdentityAnswer("discovery", "token_endpoint a number", _with("token_endpoint", 12345)),
    IdentityAnswer("discovery", "token_endpoint a list", _with("token_endpoint", ["https://x"])),
    IdentityAnswer("discovery", "token_endpoint an object", _with("token_endpoint", {"a": 1})),
    IdentityAnswer("discovery", "token_endpoint not a URL", _with("token_endpoint", "https://[")),
    IdentityAnswer("discovery", "token_endpoint a word", _with("token_endpoint", "0")),
    IdentityAnswer("discovery", "nested 100,000 deep", raw=nested_json()),
    IdentityAnswer(
        "discovery",
        "2 MB",
        _with("padding", "x" * OVERSIZED),
        code="answer_too_large",
    ),
    IdentityAnswer("token", "an empty object", lambda answer: {}),
    IdentityAnswer("token", "expires_in null", _with("expires_in", None)),
    IdentityAnswer("token", "expires_in a list", _with("expires_in", [])),
    IdentityAnswer("token", "access_token not Latin-1", _token_as(lambda t: t + "€")),
    IdentityAnswer("token", "access_token with a line break", _token_as(lambda t: t + "\r\nX: y")),
    IdentityAnswer("token", "access_token not a JWT", _token_as(lambda t: "not-a-jwt")),
    IdentityAnswer("token", "access_token a number", _token_as(lambda t: 12345)),
    IdentityAnswer("token", "access_token empty", _token_as(lambda t: "")),
    IdentityAnswer("token", "access_token claims not JSON", _token_as(lambda t: "eyJ.bm90.c2ln")),
    IdentityAnswer(
        "token",
        "access_token claims nested 15,000 deep",
        _token_as(lambda t: f"eyJ.{base64.urlsafe_b64encode(b'[' * 15_000).decode()}.c2ln"),
    ),
    IdentityAnswer(
        "token",
        "access_token of 100 KB",
        _token_as(lambda t: t + "A" * 100_000),
        code="answer_too_large",
    ),
    IdentityAnswer(
        "token",
        "access_token of 2 MB",
        _token_as(lambda t: t + "A" * OVERSIZED),
        code="answer_too_large",
    ),
    IdentityAnswer("token", "nested 100,000 deep", raw=nested_json()),
    # Small on the wire: only reading it shows how large it is.
    IdentityAnswer(
        "discovery",
        "2 MB gzipped to 2 KB",
        _with("padding", "x" * OVERSIZED),
        code="answer_too_large",
        gzipped=True,
    ),
)


@st.composite
def identity_answers(draw: st.DrawFn) -> IdentityAnswer:
    """One of the malformed answers above, or a real answer with one of its fields replaced by
    any JSON value (generated)."""
    if draw(st.booleans()):
        return draw(st.sampled_from(MALFORMED_IDENTITY_ANSWERS))
    endpoint = draw(st.sampled_from(["discovery", "token"]))
    keys = (
        ["token_endpoint", "authorization_endpoint", "cloud_instance_name", "issuer"]
        if endpoint == "discovery"
        else ["access_token", "expires_in", "token_type", "ext_expires_in"]
    )
    key = draw(st.sampled_from(keys))
    value = draw(values())
    return IdentityAnswer(endpoint, f"{key} = {value!r:.60}", _with(key, value))
