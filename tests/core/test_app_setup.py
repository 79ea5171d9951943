"""The setup client setting and the plain facts "Set it up for me" shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clearooms_wizard.core.app_setup import (
    APPLICATION_ADMINISTRATOR,
    AZURE_CLI_CLIENT_ID,
    GLOBAL_ADMINISTRATOR,
    PACKAGED_SETUP_CLIENT_FILE,
    SignedInAdmin,
    setup_client_from,
)
from clearooms_wizard.core.store import InvalidInput
from clearooms_wizard.runtime import ConnectionOptions, build_runtime


def test_the_packaged_default_is_azure_clis_public_client() -> None:
    client = setup_client_from(None)
    assert client.client_id == AZURE_CLI_CLIENT_ID
    assert client.is_azure_cli
    assert client.shown_as == "Microsoft Azure CLI"


def test_a_vendor_client_is_tidied_and_named_by_its_id() -> None:
    client = setup_client_from("  {5C3E8A1F-7D2B-4E69-B0A4-9F1C6D8E2B37} ")
    assert client.client_id == "5c3e8a1f-7d2b-4e69-b0a4-9f1c6d8e2b37"
    assert not client.is_azure_cli
    assert client.shown_as == "the app 5c3e8a1f-7d2b-4e69-b0a4-9f1c6d8e2b37"


def test_a_setting_that_is_no_client_id_says_where_it_came_from() -> None:
    with pytest.raises(InvalidInput) as caught:
        setup_client_from("clearooms-setup")
    assert "CLEAROOMS_SETUP_CLIENT_ID" in str(caught.value)
    assert "clearooms-setup" not in str(caught.value)


def test_a_vendor_build_packages_its_own_client_as_the_default(tmp_path: Path) -> None:
    assert setup_client_from(None, tmp_path).is_azure_cli
    (tmp_path / PACKAGED_SETUP_CLIENT_FILE).write_text("5C3E8A1F-7D2B-4E69-B0A4-9F1C6D8E2B37\n")
    assert setup_client_from(None, tmp_path).client_id == "5c3e8a1f-7d2b-4e69-b0a4-9f1c6d8e2b37"
    # A setting still wins over the packaged default.
    assert setup_client_from(AZURE_CLI_CLIENT_ID, tmp_path).is_azure_cli
    (tmp_path / PACKAGED_SETUP_CLIENT_FILE).write_text("clearooms")
    with pytest.raises(InvalidInput, match=re.escape("this build's setup-client-id.txt")):
        setup_client_from(None, tmp_path)


def test_the_source_tree_packages_no_client_of_its_own() -> None:
    assert setup_client_from(None).is_azure_cli


def test_the_option_wins_over_the_environment_and_is_checked_only_when_needed(
    tmp_path: Path,
) -> None:
    env = {"CLEAROOMS_SETUP_CLIENT_ID": "not a client id", "CLEAROOMS_WORKSPACE": str(tmp_path)}
    from_env = build_runtime(ConnectionOptions(demo=True), env).use_cases
    with pytest.raises(InvalidInput):
        _ = from_env.setup_client
    option = ConnectionOptions(demo=True, setup_client_id="5c3e8a1f-7d2b-4e69-b0a4-9f1c6d8e2b37")
    chosen = build_runtime(option, env).use_cases.setup_client
    assert chosen.client_id == "5c3e8a1f-7d2b-4e69-b0a4-9f1c6d8e2b37"
    assert build_runtime(ConnectionOptions(demo=True), {}).use_cases.setup_client.is_azure_cli


def test_only_global_and_privileged_role_administrators_grant_permissions() -> None:
    def admin(*roles: str) -> SignedInAdmin:
        return SignedInAdmin("a@b.example", None, "t", None, roles)

    assert admin(GLOBAL_ADMINISTRATOR).can_grant_permissions
    assert admin(GLOBAL_ADMINISTRATOR).role_names == ("Global Administrator",)
    application_admin = admin(APPLICATION_ADMINISTRATOR, "b79fbf4d-3ef9-4689-8143-76b194e85509")
    assert not application_admin.can_grant_permissions
    assert application_admin.role_names == ("Application Administrator",)
