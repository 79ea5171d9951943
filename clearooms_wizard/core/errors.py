"""Typed failures. Each carries what support needs (codes, request ids); none carries a secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ClearoomsError(Exception):
    """A failure we expected and can explain; ``str()`` is a plain-English sentence."""


class CaBundleProblem(ClearoomsError):
    """The extra CA certificate file (--ca-bundle) is missing or not PEM certificates."""


class NetworkProblem(StrEnum):
    DNS = "dns"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    SLOW = "slow"  # answering, but too slowly to finish within the call's deadline
    TLS = "tls"
    PROXY = "proxy"
    RESET = "reset"
    OTHER = "other"


@dataclass(frozen=True)
class TechnicalDetails:
    """Identifiers Microsoft support asks for; all are safe to show and to copy into a report."""

    request_id: str | None = None
    client_request_id: str | None = None
    correlation_id: str | None = None
    trace_id: str | None = None
    timestamp: str | None = None
    http_status: int | None = None
    url: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        values: dict[str, str | int | None] = {
            "request_id": self.request_id,
            "client_request_id": self.client_request_id,
            "correlation_id": self.correlation_id,
            "trace_id": self.trace_id,
            "timestamp": self.timestamp,
            "http_status": self.http_status,
            "url": self.url,
        }
        result = {key: str(value) for key, value in values.items() if value is not None}
        result.update(self.extra)
        return result


class NetworkError(ClearoomsError):
    def __init__(self, problem: NetworkProblem, host: str, description: str) -> None:
        super().__init__(description)
        self.problem = problem
        self.host = host


class UnexpectedResponse(ClearoomsError):
    """An answer that is not Microsoft's JSON: a proxy's login page, a cut-off or empty body."""

    def __init__(self, description: str, details: TechnicalDetails) -> None:
        super().__init__(description)
        self.details = details


class ListProblem(StrEnum):
    """Pages of a list from Microsoft Graph that do not add up."""

    ELSEWHERE = "elsewhere"  # a next page at another address: the sign-in must not follow it
    LOOP = "loop"  # a next link already followed
    ENDLESS = "endless"  # more pages than any tenant has
    REPEATS = "repeats"  # page after page of entries already sent
    NO_ENTRIES = "no_entries"  # a page without its list of entries


class ListFault(UnexpectedResponse):
    """Microsoft Graph answered, but its pages of a list could not be read to the end."""

    def __init__(self, problem: ListProblem, description: str, details: TechnicalDetails) -> None:
        super().__init__(description, details)
        self.problem = problem


class AnswerTooLarge(UnexpectedResponse):
    """An answer far larger than Microsoft ever sends, refused before it is all read or used."""


class SignInError(ClearoomsError):
    """Microsoft Entra ID refused to sign the app in (an AADSTS error)."""

    def __init__(
        self, error: str, aadsts: int | None, description: str, details: TechnicalDetails
    ) -> None:
        first_line = description.splitlines()[0] if description else error
        super().__init__(first_line)
        self.error = error
        self.aadsts = aadsts
        self.description = description
        self.details = details

    @property
    def code(self) -> str:
        return f"AADSTS{self.aadsts}" if self.aadsts is not None else self.error


class GraphError(ClearoomsError):
    """Microsoft Graph answered with an error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: TechnicalDetails,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Microsoft Graph said {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.retry_after = retry_after
