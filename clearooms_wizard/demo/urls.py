"""Fixed addresses of the in-process demo tenant.

The `.invalid` top-level domain is reserved (RFC 2606), so these hosts can never resolve to a
real server: if a request for them ever escapes the in-process adapter it fails instead of
leaking a demo credential to the internet.
"""

from __future__ import annotations

DEMO_AUTHORITY_HOST = "https://login.demo.clearooms.invalid"
DEMO_GRAPH_ROOT = "https://graph.demo.clearooms.invalid"
PUBLIC_GRAPH_ROOT = "https://graph.microsoft.com"

__all__ = ["DEMO_AUTHORITY_HOST", "DEMO_GRAPH_ROOT", "PUBLIC_GRAPH_ROOT"]
