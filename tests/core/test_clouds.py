"""Cloud addresses, and the overrides support staff may give."""

from __future__ import annotations

import pytest

from clearooms_wizard.core.clouds import CLOUDS, UrlProblem, get_cloud, normalise_root_url


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("https://graph.microsoft.us", "https://graph.microsoft.us"),
        ("  https://graph.microsoft.us/ ", "https://graph.microsoft.us"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ],
)
def test_root_urls_are_tidied(given: str, root: str) -> None:
    assert normalise_root_url(given) == root


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("http://graph.microsoft.com", "https://"),
        ("https://graph.microsoft.com/v1.0", "without a path"),
        ("https://user:pw@graph.microsoft.com", "user name or password"),
        ("https://graph.microsoft.com?x=1", "without a path"),
        ("https://graph.microsoft.com:abc", "port"),
        ("graph.microsoft.com", "https://"),
    ],
)
def test_bad_root_urls_are_refused(given: str, says: str) -> None:
    with pytest.raises(UrlProblem, match=says):
        normalise_root_url(given)


def test_every_cloud_has_its_own_hosts() -> None:
    assert get_cloud("usgov-dod").graph_root == "https://dod-graph.microsoft.us"
    assert get_cloud("china").graph_scope == "https://microsoftgraph.chinacloudapi.cn/.default"
    assert all(cloud.authority_is_well_known for cloud in CLOUDS.values())
    custom = get_cloud("global").with_overrides("https://login.example.test", None)
    assert not custom.authority_is_well_known
    with pytest.raises(UrlProblem, match="Unknown cloud"):
        get_cloud("mars")


@pytest.mark.parametrize(
    ("key", "authority", "answer", "named"),
    [
        ("global", None, "microsoftonline.com", None),
        ("global", "https://login.microsoft.com", "microsoftonline.com", None),
        ("global", "https://rig.test", "microsoftonline.com", None),
        ("global", "https://rig.test", "microsoftonline.us", "US Government (GCC High or DoD)"),
        ("global", None, "partner.microsoftonline.cn", "China (21Vianet)"),
        # The user chose a US Government sign-in host on purpose.
        ("global", "https://login.microsoftonline.us", "microsoftonline.us", None),
        ("usgov", None, "microsoftonline.com", "Microsoft 365 (worldwide, including GCC)"),
        ("usgov", None, "microsoftonline.us", None),
        ("china", None, "chinacloudapi.cn", None),
        ("global", None, "login.demo.example", None),
        ("global", None, None, None),
    ],
)
def test_another_cloud_is_named_only_when_the_answer_names_one(
    key: str, authority: str | None, answer: str | None, named: str | None
) -> None:
    cloud = get_cloud(key).with_overrides(authority, None)
    assert cloud.other_cloud_named(answer) == named
