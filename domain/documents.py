"""Documents on paper: which there are, what each may carry, which can come back signed, and
what a signed scan sent back must look like. Pure rules; the bot renders, storage keeps."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from domain.messages import N_


class DocumentKind(StrEnum):
    """Stored with every issued document (case_document.kind) and in buttons: values never change."""

    CONSENT = "consent"  # consent to documentation in the case file
    SHARE = "share"  # consent to share with one agency, for one referral
    AGREEMENT = "agreement"  # the goal agreement (Zielvereinbarung)
    LETTER = "letter"  # the referral letter (Überleitungsbogen) for the receiving service
    HANDOUT = "handout"  # the client's handout: appointments, services, contact

    @property
    def label(self) -> str:
        return DOCUMENT_LABELS[self]

    @property
    def per_referral(self) -> bool:
        return self in (DocumentKind.SHARE, DocumentKind.LETTER)

    @property
    def signed(self) -> bool:
        """Whether the client signs it, so that a signed scan belongs back into the case."""
        return self in (DocumentKind.CONSENT, DocumentKind.SHARE, DocumentKind.AGREEMENT)

    @property
    def names_client(self) -> bool:
        """Whether the client's name is on it: what is signed, and what another office must match
        to a person. The handout is kept by the client and shows only the case code."""
        return self is not DocumentKind.HANDOUT


# Translators: names of the documents the bot makes (buttons, captions and the documents' titles)
DOCUMENT_LABELS = {
    DocumentKind.CONSENT: N_("Consent to documentation"),
    DocumentKind.SHARE: N_("Consent to share data"),
    DocumentKind.AGREEMENT: N_("Goal agreement"),
    DocumentKind.LETTER: N_("Referral letter"),
    DocumentKind.HANDOUT: N_("Handout for the client"),
}

# The languages a document can be in (the interface languages); German always comes first.
DOCUMENT_LANGUAGES = ("de", "en", "tr", "ar", "fa", "uk", "ru")
FIRST_LANGUAGE = "de"


def proposed_language(spoken: Iterable[str] | None) -> str:
    """The client's language to propose beside German: the first language of the intake that a
    document can be in, other than German ("de" alone: German only)."""
    for code in spoken or ():
        if code in DOCUMENT_LANGUAGES and code != FIRST_LANGUAGE:
            return code
    return FIRST_LANGUAGE


def shareable(domains: Iterable[str], consented: Iterable[str]) -> list[str]:
    """What a referral letter may carry: only the life domains the client consented to share
    with that agency, in the order given."""
    allowed = set(consented)
    return [d for d in domains if d in allowed]


# --- signed scans sent back ----------------------------------------------------------------
# Telegram lets a bot download files up to 20 MB: a larger one could not be fetched at all.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024

# what a signed form may come back as, told by its first bytes (never by its name or the type
# the sender's phone declared)
_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff(content: bytes) -> tuple[str, str] | None:
    """(media type, file extension) of a scan or photo by its content; None for anything else."""
    for magic, media_type, extension in _SIGNATURES:
        if content.startswith(magic):
            return media_type, extension
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def extension_of(media_type: str) -> str:
    return next((ext for _, known, ext in _SIGNATURES if known == media_type), "webp" if media_type == "image/webp" else "bin")
