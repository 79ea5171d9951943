"""The script signs the Exchange administrator in to their own cloud's Exchange Online:
GCC High, DoD and China have endpoints of their own; the worldwide cloud (GCC included) the
default one. Also written that way over loopback HTTPS when the wizard's cloud is one of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import CLOUDS
from clearooms_wizard.core.scope_script import ScopeValues, render_scope_script
from tests.conftest import ServeDemo
from tests.core.test_usecases import credentials_of, use_cases_for

GUID = "0b7d5c1e-92a4-4f38-b6e1-3c9a7d2f8e41"
SP = "9a4c7e21-5d8b-4f03-a6e2-b18d3c5f7a94"


def _connect_lines(cloud: str) -> list[str]:
    text = render_scope_script(
        ScopeValues(GUID, "contoso.onmicrosoft.us", SP, "room@contoso.us", "ceo@contoso.us", cloud)
    )
    return [line for line in text.splitlines() if line.startswith("Connect-ExchangeOnline")]


@pytest.mark.parametrize(
    ("cloud", "line"),
    [
        ("global", "Connect-ExchangeOnline"),
        ("usgov", "Connect-ExchangeOnline -ExchangeEnvironmentName O365USGovGCCHigh"),
        ("usgov-dod", "Connect-ExchangeOnline -ExchangeEnvironmentName O365USGovDoD"),
        ("china", "Connect-ExchangeOnline -ExchangeEnvironmentName O365China"),
    ],
)
def test_each_cloud_connects_to_its_own_exchange_online(cloud: str, line: str) -> None:
    assert _connect_lines(cloud) == [line]


def test_every_cloud_the_wizard_offers_has_a_script() -> None:
    for key in CLOUDS:
        assert len(_connect_lines(key)) == 1


def test_custom_hosts_use_the_default_endpoint_and_the_key_is_never_written() -> None:
    assert _connect_lines("custom'; Remove-Mailbox x; '") == ["Connect-ExchangeOnline"]


def test_the_wizards_cloud_goes_into_the_script(serve_demo: ServeDemo, tmp_path: Path) -> None:
    served = serve_demo("healthy")
    use_cases = use_cases_for(served, tmp_path / "workspace.sqlite3")
    # GCC High's cloud, served by the demo tenant on loopback (the hosts are overridden).
    cloud = dataclasses.replace(served.cloud, key="usgov")
    script = use_cases.scope_script(credentials_of(served), cloud, CancelToken())
    assert script.values.cloud == "usgov"
    assert "Connect-ExchangeOnline -ExchangeEnvironmentName O365USGovGCCHigh\n" in script.text
