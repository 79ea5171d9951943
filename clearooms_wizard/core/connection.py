"""Opening a connection to Microsoft Graph: one session, signed in, with its Graph client.

Every flow that reads from Graph (loading the rooms, checking the calendars of an import) goes
through :func:`graph_connection`; Test Settings opens its session the same way but signs in step
by step, because each step is a check of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from clearooms_wizard.core.cancel import CancelToken
from clearooms_wizard.core.clouds import Cloud
from clearooms_wizard.core.graph import GraphClient
from clearooms_wizard.core.tokens import TokenProvider
from clearooms_wizard.core.values import Credentials

if TYPE_CHECKING:
    from clearooms_wizard.core.http import MicrosoftSession

# Opens a session to Microsoft (or to the demo tenant); the composition root decides which.
SessionOpener = Callable[[CancelToken], "MicrosoftSession"]


@contextmanager
def graph_connection(
    open_session: SessionOpener, credentials: Credentials, cloud: Cloud, cancel: CancelToken
) -> Iterator[GraphClient]:
    """A Graph client signed in as the app, on a session closed when the block ends.

    ``cancel`` stops requests in flight as well as the work between them.
    """
    session = open_session(cancel)
    try:
        tokens = TokenProvider(credentials, cloud, session)
        yield GraphClient(session, tokens, cloud.graph_root, cancel)
    finally:
        session.close()
