"""Consent, as the concept requires it: from the first field on, and bound to a purpose."""

from __future__ import annotations

# The version of the consent text read to the client; bump it when the text changes. Stored
# with every case, so it is known later which text a client agreed to.
CONSENT_VERSION = "2026-01"
