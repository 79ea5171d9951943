"""A canary secret and the canary tokens, and the search for them afterwards.

``Leaks`` searches text and files for the secret in every form it could be written in (as is,
URL-encoded, base64 at each alignment, as UTF-16, and any 8 characters of it in a row) and for
every access token the demo tenant issued (whole, and its signature). ``ExceptionCollector``
records every exception that passes through the product's own code while it runs, on any thread,
so their texts can be searched too.
"""

from __future__ import annotations

import base64
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote, quote_plus

import clearooms_wizard
from tests.support.reliability import REPORT, table

# Shaped like an Entra secret value (40 characters, ~ . _ -) and found nowhere else.
CANARY_SECRET = "Zq9~CanaryS3cret.7f3Kx_2Lm8Pq-5Wv1Rt6Yb"
# The secret a renewal gets from the demo tenant in the canary tests: also found nowhere else.
CANARY_RENEWED_SECRET = "Rn4~CanaryRenewed.9d2Hq_7Ks3Vx-1Mb8Tz4Wp"
PRODUCT = str(Path(clearooms_wizard.__file__).resolve().parent)


_PEM_KEY_MARKERS = (b"BEGIN PRIVATE KEY", b"BEGIN RSA PRIVATE KEY", b"BEGIN ENCRYPTED PRIVATE KEY")


def _variants(secret: str) -> set[bytes]:
    raw = secret.encode()
    found = {raw, quote(secret, safe="").encode(), quote_plus(secret).encode()}
    found |= {secret.encode("utf-16-le"), secret.encode("utf-16-be")}
    for start in range(3):
        encoded = base64.b64encode(raw[start:])[4:-4]
        found.add(encoded)
        found.add(encoded.replace(b"+", b"-").replace(b"/", b"_"))
    # Any eight characters of it in a row: a secret cut short or half-redacted still leaks.
    found |= {raw[i : i + 8] for i in range(len(raw) - 7)}
    return {v for v in found if len(v) >= 8}


@dataclass
class Leaks:
    secret: str = CANARY_SECRET
    tokens: list[str] = field(default_factory=list)
    # Certificate credentials' private keys (PEM): every line of their body is searched for.
    private_keys: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    bytes_searched: int = 0
    found: list[str] = field(default_factory=list)

    def _needles(self) -> dict[bytes, str]:
        needles = {v: "the secret" for v in _variants(self.secret)}
        # Whatever the key, a PEM private key written out says so.
        needles.update({marker: "a private key in PEM" for marker in _PEM_KEY_MARKERS})
        for pem in self.private_keys:
            for line in pem.splitlines():
                if len(line) >= 16 and "-----" not in line:
                    needles[line.strip().encode()] = "a private key's PEM body"
        for token in self.tokens:
            needles[token.encode()] = "an access token"
            signature = token.rsplit(".", 1)[-1]
            if len(signature) >= 16:
                needles[signature[:32].encode()] = "an access token's signature"
        return needles

    def search_bytes(self, where: str, data: bytes) -> None:
        self.places.append(where)
        self.bytes_searched += len(data)
        for needle, what in self._needles().items():
            if needle in data:
                self.found.append(f"{what} in {where}")

    def search_text(self, where: str, text: str) -> None:
        self.search_bytes(where, text.encode("utf-8", "surrogatepass"))

    def search_tree(self, root: Path, label: str) -> int:
        """Every file under ``root``; returns how many."""
        count = 0
        for path in sorted(root.rglob("*")):
            if path.is_file():
                count += 1
                self.search_bytes(f"{label}/{path.relative_to(root)}", path.read_bytes())
        return count

    def search_exceptions(self, where: str, errors: Iterable[BaseException]) -> int:
        count = 0
        for error in errors:
            count += 1
            for linked in _chain(error):
                text = f"{linked!s}\n{linked!r}\n" + "\n".join(repr(a) for a in linked.args)
                self.search_text(f"{where}: {type(linked).__name__}", text)
        return count


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]


class ExceptionCollector:
    """Every exception raised in, or passing through, a frame of the product's code."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._previous: Any = None
        self._previous_threads: Any = None

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "exception":
            with self._lock:
                error = arg[1]
                if not any(error is e for e in self.errors):
                    self.errors.append(error)
        return self._local

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_filename.startswith(PRODUCT):
            return self._local
        return None

    def __enter__(self) -> ExceptionCollector:
        self._previous = sys.gettrace()
        self._previous_threads = threading.gettrace()
        threading.settrace(self._global)
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc_info: object) -> None:
        sys.settrace(self._previous)
        threading.settrace(self._previous_threads)


SECRETS_TITLE = "Secrets: a canary secret and canary tokens, searched for everywhere afterwards"
_SUMMARY: list[list[str]] = []


def record(flow: str, leaks: Leaks, files: int, texts: int, errors: int) -> None:
    """Add a flow's search to the printed table (and the counts)."""
    _SUMMARY.append(
        [
            flow,
            str(files),
            str(texts),
            str(errors),
            str(len(leaks.tokens)),
            f"{leaks.bytes_searched:,}",
            str(len(leaks.found)),
        ]
    )
    REPORT.count("secrets: places searched", len(leaks.places))
    REPORT.count("secrets: occurrences found", len(leaks.found))
    header = ["flow", "files", "texts", "exceptions", "tokens", "bytes searched", "found"]
    REPORT.sections.pop(SECRETS_TITLE, None)
    REPORT.add(SECRETS_TITLE, table(header, _SUMMARY))
