"""Our loopback listener: one answer, in a query or a posted form, bounded, cancellable, and
deaf to whatever else reaches its port."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from clearooms_wizard.core.cancel import Cancelled, CancelToken
from clearooms_wizard.core.loopback import (
    DONE_TEXT,
    MAX_BODY_BYTES,
    MAX_FIELDS,
    NOT_DONE_TEXT,
    NoAnswer,
    RedirectListener,
)

STATE = "the-state-this-sign-in-sent"


def post(url: str, fields: dict[str, str]) -> requests.Response:
    return requests.post(url, data=fields, timeout=5)


def test_an_answer_in_the_query_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    with RedirectListener(expected_state=STATE) as listener:
        assert listener.redirect_uri == f"http://localhost:{listener.port}"
        page = requests.get(
            listener.redirect_uri, params={"code": "c0de", "state": STATE}, timeout=5
        )
        assert page.status_code == 200
        assert DONE_TEXT in page.text
        assert page.headers["Cache-Control"] == "no-store"
        assert listener.wait(CancelToken(), 5) == {"code": "c0de", "state": STATE}


def test_a_posted_form_is_returned() -> None:
    with RedirectListener(expected_state=STATE) as listener:
        page = post(listener.redirect_uri, {"code": "c0de", "state": STATE, "session_state": "s"})
        assert page.status_code == 200
        answer = listener.wait(CancelToken(), 5)
    assert answer == {"code": "c0de", "state": STATE, "session_state": "s"}


def test_an_error_answer_is_returned_and_the_page_says_it_did_not_finish() -> None:
    with RedirectListener(expected_state=STATE) as listener:
        page = post(listener.redirect_uri, {"error": "access_denied", "state": STATE})
        assert NOT_DONE_TEXT in page.text
        assert listener.wait(CancelToken(), 5)["error"] == "access_denied"


def test_a_path_of_its_own_is_listened_on() -> None:
    with RedirectListener(path="/consent") as listener:
        assert listener.redirect_uri.endswith("/consent")
        assert (
            requests.get(
                f"http://127.0.0.1:{listener.port}/", params={"error": "x"}, timeout=5
            ).status_code
            == 404
        )
        requests.get(listener.redirect_uri, params={"admin_consent": "True"}, timeout=5)
        assert listener.wait(CancelToken(), 5) == {"admin_consent": "True"}


def test_stray_requests_are_ignored_until_the_answer_comes() -> None:
    with RedirectListener(expected_state=STATE) as listener:
        base = f"http://127.0.0.1:{listener.port}"
        assert requests.get(f"{base}/favicon.ico", timeout=5).status_code == 404
        assert requests.get(f"{base}/elsewhere?code=x&state={STATE}", timeout=5).status_code == 404
        # Not an answer at all, or an answer to another sign-in.
        assert requests.get(f"{base}/?hello=there", timeout=5).status_code == 400
        assert requests.get(f"{base}/?code=x&state=another", timeout=5).status_code == 400
        assert requests.get(f"{base}/?code=x", timeout=5).status_code == 400
        assert requests.head(base, timeout=5).status_code == 405
        with pytest.raises(NoAnswer):
            listener.wait(CancelToken(), 0.2)
        requests.get(base, params={"code": "right", "state": STATE}, timeout=5)
        assert listener.wait(CancelToken(), 5)["code"] == "right"


def test_the_first_answer_is_kept() -> None:
    with RedirectListener(expected_state=STATE) as listener:
        post(listener.redirect_uri, {"code": "first", "state": STATE})
        page = post(listener.redirect_uri, {"code": "second", "state": STATE})
        assert page.status_code == 200
        assert listener.wait(CancelToken(), 5)["code"] == "first"


def test_oversized_and_malformed_answers_are_refused() -> None:
    with RedirectListener(expected_state=STATE) as listener:
        url = listener.redirect_uri
        big = {"code": "x" * (MAX_BODY_BYTES + 1), "state": STATE}
        assert post(url, big).status_code == 413
        long_query = urlencode({"code": "x" * 20_000, "state": STATE})
        assert requests.get(f"{url}/?{long_query}", timeout=5).status_code in (414, 404)
        many = {f"f{i}": "v" for i in range(MAX_FIELDS + 1)} | {"code": "x", "state": STATE}
        assert post(url, many).status_code == 400
        twice = f"code=a&code=b&state={STATE}"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        assert requests.post(url, data=twice, headers=headers, timeout=5).status_code == 400
        as_json = requests.post(url, json={"code": "x", "state": STATE}, timeout=5)
        assert as_json.status_code == 400
        chunked = requests.post(
            url, data=iter([b"code=x&state=", STATE.encode()]), headers=headers, timeout=5
        )
        assert chunked.status_code == 411
        with pytest.raises(NoAnswer):
            listener.wait(CancelToken(), 0.2)


def test_a_silent_connection_does_not_hold_up_the_answer() -> None:
    with RedirectListener(expected_state=STATE) as listener:
        # A browser's speculative connection that never sends a request.
        idle = socket.create_connection(("127.0.0.1", listener.port))
        try:
            started = time.monotonic()
            post(listener.redirect_uri, {"code": "c", "state": STATE})
            assert listener.wait(CancelToken(), 5)["code"] == "c"
            assert time.monotonic() - started < 2
        finally:
            idle.close()


def test_cancel_from_another_thread_ends_the_wait_and_closes_the_port() -> None:
    cancel = CancelToken()
    with RedirectListener(expected_state=STATE) as listener:
        port = listener.port
        timer = threading.Timer(0.2, cancel.cancel)
        timer.start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            listener.wait(cancel, 60)
        assert time.monotonic() - started < 2
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_nothing_is_answered_with_a_server_banner_or_a_log_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with RedirectListener(expected_state=STATE) as listener:
        connection = http.client.HTTPConnection("127.0.0.1", listener.port, timeout=5)
        connection.request("GET", f"/?code=secret-code&state={STATE}")
        response = connection.getresponse()
        assert "Python" not in (response.getheader("Server") or "")
        connection.close()
        listener.wait(CancelToken(), 5)
    captured = capsys.readouterr()
    assert "secret-code" not in captured.err + captured.out
