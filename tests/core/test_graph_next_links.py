"""The access token only ever goes to the Graph host: next links that lead anywhere else are not
followed, and the session puts the token only on requests whose sent URL is the Graph root.

Every hostile link points at a second HTTPS listener on loopback (trusted like the demo, so a
token sent there would really arrive); it must hear nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.errors import ClearoomsError, ListFault, ListProblem, UnexpectedResponse
from clearooms_wizard.core.fixes import LIST_FIXES, UNEXPECTED_RESPONSE, explain_error
from clearooms_wizard.core.graph import GraphClient
from clearooms_wizard.core.http import HttpOptions, MicrosoftSession
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.values import Credentials
from clearooms_wizard.demo import Fault
from tests.conftest import TLS, Served, ServeDemo
from tests.support.eavesdropper import Eavesdropper

ROOMS = "/v1.0/places/microsoft.graph.room"
FIRST_PAGE = r"microsoft\.graph\.room\?%24top=100&%24count=true$"
JSON = {"Content-Type": "application/json"}

# {g}: the Graph root's host and port; {e}: the eavesdropper's port (on 127.0.0.1, which
# "localhost" also reaches). Each is a next link some parser reads as Graph and another does not,
# or one that plainly goes elsewhere.
HOSTILE_LINKS = {
    "backslash before @": "https://localhost:{e}\\@{g}" + ROOMS + "?$skip=5",
    "backslash before @, same address": "https://127.0.0.1:{e}\\@{g}" + ROOMS,
    "user info naming Graph": "https://{g}@localhost:{e}" + ROOMS,
    "user info on Graph itself": "https://someone:secret@{g}" + ROOMS,
    "another port": "https://127.0.0.1:{e}" + ROOMS,
    "another host name": "https://localhost:{e}" + ROOMS,
    "the Graph port under another name": "https://localhost:{gp}" + ROOMS,
    "plain http": "http://{g}" + ROOMS,
    "no scheme": "//localhost:{e}" + ROOMS,
    "tab in the host": "https://{g}\t@localhost:{e}" + ROOMS,
    "newline in the host": "https://localhost:{e}\n@{g}" + ROOMS,
    "carriage return": "https://localhost:{e}\r@{g}" + ROOMS,
    "NUL": "https://localhost:{e}\x00@{g}" + ROOMS,
    "DEL": "https://localhost:{e}\x7f@{g}" + ROOMS,
    "leading space": " https://localhost:{e}" + ROOMS,
    "percent-encoded @": "https://localhost:{e}%40{g}" + ROOMS,
    "percent-encoded backslash": "https://localhost:{e}%5C@{g}" + ROOMS,
    "fragment before @": "https://localhost:{e}#@{g}" + ROOMS,
    "query before @": "https://localhost:{e}?@{g}" + ROOMS,
    "full-width letters": "https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54:{e}"
    + ROOMS,
    "full-width @": "https://{g}\uff20localhost:{e}" + ROOMS,
    "ideographic full stops": "https://127\u30020\u30020\u30021:{e}" + ROOMS,
    "punycode host": "https://xn--localhost-:{e}" + ROOMS,
    "backslashes for slashes": "https:\\\\localhost:{e}" + ROOMS,
    "slash and backslash": "https:/\\localhost:{e}" + ROOMS,
    "upper case": "HTTPS://LOCALHOST:{e}" + ROOMS,
    "IPv4-mapped IPv6": "https://[::ffff:127.0.0.1]:{e}" + ROOMS,
    "port zero-padded to another": "https://127.0.0.1:0{e}" + ROOMS,
}


@pytest.fixture
def eavesdropper(tls: TLS) -> Iterator[Eavesdropper]:
    with Eavesdropper(tls.server_context) as listener:
        yield listener


@pytest.fixture
def graph_for() -> Iterator[Any]:
    sessions: list[MicrosoftSession] = []

    def build(served: Served) -> GraphClient:
        session = MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), CancelToken())
        sessions.append(session)
        scenario = served.tenant.scenario
        credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
        return GraphClient(
            session, TokenProvider(credentials, served.cloud, session), served.base_url
        )

    yield build
    for session in sessions:
        session.close()


def fill(link: str, served: Served, listener: Eavesdropper) -> str:
    graph = served.base_url.removeprefix("https://")
    return link.format(g=graph, gp=served.server.port, e=listener.port)


def first_page_links_to(served: Served, link: str) -> None:
    rooms = [room.to_graph() for room in served.tenant.directory.rooms]
    body = {"value": rooms[:5], "@odata.nextLink": link}
    served.tenant.inject(Fault(FIRST_PAGE, status=200, headers=JSON, body=body, times=1))


@pytest.mark.parametrize("form", list(HOSTILE_LINKS))
def test_a_next_link_anywhere_but_graph_is_refused_and_nothing_reaches_it(
    form: str, serve_demo: ServeDemo, eavesdropper: Eavesdropper, graph_for: Any
) -> None:
    served = serve_demo("healthy")
    first_page_links_to(served, fill(HOSTILE_LINKS[form], served, eavesdropper))
    with pytest.raises(ListFault) as caught:
        graph_for(served).list_rooms()
    assert caught.value.problem is ListProblem.ELSEWHERE
    assert eavesdropper.heard().connections == 0
    # Only the first page was asked for: the link was not followed to Graph either.
    assert [p for p in served.paths() if p.startswith(ROOMS)] == [
        ROOMS + "?%24top=100&%24count=true"
    ]


def test_a_next_link_on_graph_is_followed_on_the_graph_root(
    serve_demo: ServeDemo, graph_for: Any
) -> None:
    served = serve_demo("healthy")
    # Upper case and an explicit, zero-padded port are still the Graph root.
    graph = served.base_url.removeprefix("https://").upper()
    port = served.server.port
    link = f"HTTPS://{graph.replace(f':{port}', f':0{port}')}{ROOMS}?%24top=5&%24skip=5"
    first_page_links_to(served, link)
    rooms, _ = graph_for(served).list_rooms()
    assert len(rooms) == 24
    assert ROOMS + "?%24top=5&%24skip=5" in served.paths()


@pytest.mark.parametrize(
    "form", ["backslash before @", "another host name", "user info naming Graph"]
)
def test_the_session_puts_the_token_only_on_requests_sent_to_graph(
    form: str, serve_demo: ServeDemo, eavesdropper: Eavesdropper, graph_for: Any
) -> None:
    """Defence in depth: even a caller handing the client a foreign URL sends nothing there."""
    served = serve_demo("healthy")
    with pytest.raises(ListFault) as caught:
        graph_for(served).get(fill(HOSTILE_LINKS[form], served, eavesdropper))
    assert caught.value.problem is ListProblem.ELSEWHERE
    assert eavesdropper.heard().connections == 0


def test_a_redirect_from_graph_is_not_followed(
    serve_demo: ServeDemo, eavesdropper: Eavesdropper, graph_for: Any
) -> None:
    served = serve_demo("healthy")
    elsewhere = f"https://localhost:{eavesdropper.port}{ROOMS}"
    served.tenant.inject(
        Fault(FIRST_PAGE, status=307, headers={"Location": elsewhere}, body=b"", times=1)
    )
    with pytest.raises(UnexpectedResponse) as caught:
        graph_for(served).list_rooms()
    assert explain_error(caught.value)[0] is UNEXPECTED_RESPONSE
    assert eavesdropper.heard().connections == 0


def test_the_command_line_says_a_next_link_was_refused(
    serve_demo: ServeDemo, eavesdropper: Eavesdropper
) -> None:
    served = serve_demo("healthy")
    first_page_links_to(served, fill(HOSTILE_LINKS["backslash before @"], served, eavesdropper))
    code, _, err = served.run_cli("rooms", "list")
    assert code == 1
    assert LIST_FIXES[ListProblem.ELSEWHERE].summary in err
    assert "(code list:elsewhere)" in err
    assert "captive portal" not in err and "Traceback" not in err
    assert eavesdropper.heard().connections == 0


@pytest.mark.parametrize("status", [302, 307, 308])
@pytest.mark.parametrize(
    "answer", [r"openid-configuration", r"oauth2/v2\.0/token"], ids=["discovery", "token"]
)
def test_a_redirect_from_the_sign_in_service_is_not_followed_with_the_secret(
    answer: str, status: int, serve_demo: ServeDemo, eavesdropper: Eavesdropper
) -> None:
    # A 307 or 308 would send the POST again, client secret and all, to wherever it points.
    served = serve_demo("healthy")
    elsewhere = f"https://127.0.0.1:{eavesdropper.port}/common/oauth2/v2.0/token"
    served.tenant.inject(
        Fault(answer, status=status, headers={"Location": elsewhere}, body={}, times=5)
    )
    scenario = served.tenant.scenario
    credentials = Credentials(scenario.tenant, scenario.client_id, scenario.client_secret)
    with (
        MicrosoftSession(HttpOptions(ca_bundle=served.ca_bundle), CancelToken()) as session,
        pytest.raises(ClearoomsError),
    ):
        TokenProvider(credentials, served.cloud, session).acquire()
    assert eavesdropper.heard().connections == 0
