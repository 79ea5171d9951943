"""Names vulture cannot see being used: scanned by vulture with the product (see [tool.vulture]
in pyproject.toml); nothing imports it.

Vulture matches names, not owners, so each entry names the framework attribute the product
overrides or sets (Qt, http.server, requests, urllib3, sqlite3, logging), or the product's own
attribute that only the tests reach on purpose. mypy checks this file, so an entry whose name goes
away fails the type check instead of lingering. Anything else vulture reports is dead code: remove
it rather than list it here.
"""

from __future__ import annotations

import logging
import socketserver
import sqlite3
import types
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler

import requests
from PySide6.QtCore import QAbstractItemModel, QSortFilterProxyModel, QTranslator
from PySide6.QtWidgets import QWizardPage
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool

from clearooms_wizard.core import certificate_upload
from clearooms_wizard.core.workspace import Workspace
from clearooms_wizard.demo.server import DemoServer, _Handler
from clearooms_wizard.demo.tenant import DemoTenant, RequestRecord
from clearooms_wizard.ui.pages.register import RegisterPage
from clearooms_wizard.ui.wizard import SetupWizard


def _allow(*names: object) -> None:
    """Nothing to do: vulture only needs to see the names used."""


# Qt calls these overrides itself.
_allow(
    QWizardPage.initializePage,
    QWizardPage.isComplete,
    QWizardPage.validatePage,
    QWizardPage.cleanupPage,
    QAbstractItemModel.columnCount,
    QSortFilterProxyModel.mapFromSource,
    QTranslator.translate,  # with its disambiguation parameter
    QTranslator.isEmpty,
)

# The standard library and the HTTP libraries read (or let the product set) these.
_allow(
    object.__dir__,  # a module's __dir__ and __getattr__ (demo/__init__.py loads lazily)
    types.ModuleType.__getattr__,
    logging.LogRecord.msg,
    sqlite3.Connection.text_factory,
    socketserver.ThreadingMixIn.daemon_threads,
    socketserver.BaseServer.process_request,
    socketserver.BaseServer.get_request,
    socketserver.BaseServer.handle_error,
    socketserver.StreamRequestHandler.disable_nagle_algorithm,
    BaseHTTPRequestHandler.protocol_version,
    BaseHTTPRequestHandler.close_connection,
    BaseHTTPRequestHandler.log_message,
    BaseHTTPRequestHandler.sys_version,
    BaseHTTPRequestHandler.server_version,
    socketserver.TCPServer.request_queue_size,
    _Handler.do_POST,  # http.server looks up do_<METHOD> by name
    _Handler.do_PUT,
    _Handler.do_PATCH,
    _Handler.do_DELETE,
    _Handler.do_OPTIONS,
    _Handler.do_HEAD,
    HTMLParser.handle_starttag,
    HTMLParser.handle_endtag,
    HTMLParser.handle_data,
    requests.adapters.BaseAdapter.send,
    requests.Session.trust_env,
    requests.Response.encoding,
    requests.Response._content,
    HTTPSConnectionPool.ConnectionCls,
    HTTPSConnection.ca_certs,
    HTTPSConnection.ca_cert_dir,
)


def _instances(
    exc_type: object,
    tb: object,
    server: DemoServer,
    record: RequestRecord,
    workspace: Workspace,
    register: RegisterPage,
    wizard: SetupWizard,
) -> None:
    # __exit__ and sys.excepthook are called with these whether or not the body reads them.
    _allow(exc_type, tb)
    # The demo tenant's controls for the tests that serve it (DESIGN.md: "over real HTTPS on
    # loopback for tests"), and what the tests read back of the product's own state.
    _allow(
        server.base_url,
        record.base_url,
        record.is_graph,
        DemoTenant.inject,
        DemoTenant.clear_faults,
        DemoTenant.request_log,
        DemoTenant.clear_request_log,
        DemoTenant.expire_tokens,
        DemoTenant.mint_token,
        DemoTenant.mint_delegated_token,
        DemoTenant.issued_token_count,
        DemoTenant.mailbox_concurrency_rejections,
        DemoTenant.peak_mailbox_concurrency,
        workspace.set_aside_path,
        register.portal_button,
        wizard.about_box,
        wizard.connect_page.renew_dialog,
    )


_allow(_instances)

# Taking a certificate off the app: tested now, for "secret renew --certificate" to use.
_allow(certificate_upload.remove_certificate)
