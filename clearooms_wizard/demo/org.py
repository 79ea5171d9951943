"""The demo organisation's fixed names: its tenant, domains, app registration and secrets.

Kept apart from `data` (the people and rooms) so that choosing a scenario, which the wizard does
before its first page is on screen, does not build any of the organisation's data.
"""

from __future__ import annotations

import re
from typing import Literal

# "huge" is for benchmarks (10,000 rooms): no scenario uses it, a benchmark picks it with
# dataclasses.replace(scenario, rooms="huge").
RoomLayout = Literal["standard", "none", "many", "huge"]

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


# --- administrators who can sign in for "Set it up for me" --------------------------------------

# The public client the product signs administrators in with by default (Azure CLI's).
SETUP_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
SETUP_CLIENT_NAME = "Microsoft Azure CLI"

GLOBAL_ADMINISTRATOR_ROLE = "62e90394-69f5-4237-9190-012177145e10"
APPLICATION_ADMINISTRATOR_ROLE = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
# Every member of a tenant holds this "role" in its tokens.
DEFAULT_USER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509"

# Keys a scenario chooses its signing-in administrator by.
AdminKey = Literal["global-admin", "application-admin", "no-rights"]


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def room_email(name: str) -> str:
    return f"room.{slugify(name)}@{PRIMARY_DOMAIN}"
