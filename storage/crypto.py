"""Envelope encryption for personal data, and the blind index for equality look-ups.

- Every case (and every open dialogue) has its own 256-bit data key. Destroying that key
  erases the case everywhere, backups included (crypto-shredding).
- Data keys are stored wrapped by a master key that has a key id, so the master key can be
  rotated: new keys wrap new data keys, old ones stay readable until re-wrapped.
- Ciphertexts are AES-256-GCM with a fresh random 96-bit nonce each time, and associated data
  that names the record and field: a ciphertext copied into another record or field fails.
- The blind index is HMAC-SHA256 under a key of its own, derived from a secret that does not
  rotate with the master key (otherwise every index would have to be recomputed).

Nothing here logs or puts key material or plaintext into exception messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from domain.names import exact_key
from storage.types import CryptoError  # raised here; storage.types is where callers catch it from

log = logging.getLogger("casebot.crypto")

_FORMAT = 1  # first byte of every ciphertext, so the format can change later
_NONCE_BYTES = 12




def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"kim-casebot/" + purpose).derive(secret)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return bytes([_FORMAT]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[0] != _FORMAT:
        raise CryptoError("ciphertext has an unknown format")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :], aad)
    except InvalidTag:
        raise CryptoError("ciphertext does not belong to this record and field, or was altered") from None


@dataclass(frozen=True)
class WrappedKey:
    kid: str
    blob: bytes


class DataKey:
    """A per-case (or per-dialogue) key; encrypts values bound to a record and field."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> DataKey:
        return cls(AESGCM.generate_key(bit_length=256))

    def encrypt(self, plaintext: str, *, aad: str) -> bytes:
        return seal(self._key, plaintext.encode("utf-8"), aad.encode("utf-8"))

    def decrypt(self, blob: bytes, *, aad: str) -> str:
        return open_sealed(self._key, bytes(blob), aad.encode("utf-8")).decode("utf-8")

    def encrypt_bytes(self, plaintext: bytes, *, aad: str) -> bytes:
        """For files (a signed scan): the same sealing, without a text encoding."""
        return seal(self._key, plaintext, aad.encode("utf-8"))

    def decrypt_bytes(self, blob: bytes, *, aad: str) -> bytes:
        return open_sealed(self._key, bytes(blob), aad.encode("utf-8"))

    def wrap(self, inner: DataKey, *, aad: str) -> bytes:
        """`inner` sealed by this key (an organisation's key wrapping one of its case keys)."""
        return seal(self._key, inner._key, aad.encode("utf-8"))

    def unwrap(self, blob: bytes, *, aad: str) -> DataKey:
        return DataKey(open_sealed(self._key, bytes(blob), aad.encode("utf-8")))

    def __repr__(self) -> str:  # never show key bytes, not even in a debugger or a traceback
        return "DataKey(<hidden>)"


# How many values could not be decrypted since start (damaged, or their key destroyed by an
# erasure); each is skipped and shown as unreadable, and counted here for the operator.
unreadable_values = 0


def readable(key: DataKey | None, blob: bytes, *, aad: str) -> str | None:
    """The plaintext, or None when it cannot be read: one bad value harms only itself. Logged
    without content (the associated data names record and field, never data)."""
    global unreadable_values
    try:
        if key is None:
            raise CryptoError("no key")
        return key.decrypt(blob, aad=aad)
    except CryptoError:
        unreadable_values += 1
        log.warning("a value could not be decrypted (damaged or erased)")
        return None


# how often a running instance looks whether its key file changed (a rotation by `casebot
# rotate-key` while it runs: a new active key, later an old one retired)
REFRESH_SECONDS = 2.0


class Keyring:
    """The master keys (by key id) and the blind-index key, loaded from the master key file
    (or the MASTER_KEY environment variable). A keyring loaded from a file follows it: a key
    added or retired by a rotation is picked up within REFRESH_SECONDS, without a restart."""

    def __init__(self, keys: dict[str, bytes], active_kid: str, index_secret: bytes, *, source: Path | None = None) -> None:
        self._set(keys, active_kid, index_secret)
        self._system: dict[tuple[str, str], DataKey] = {}
        self.source = source
        self._stamp = _stamp(source) if source else None
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def _set(self, keys: dict[str, bytes], active_kid: str, index_secret: bytes) -> None:
        if active_kid not in keys:
            raise CryptoError("the active key id is not in the key file")
        self._wrapping = {kid: _derive(k, b"wrap/" + kid.encode()) for kid, k in keys.items()}
        self._raw = dict(keys)
        self.active_kid = active_kid
        self._index_key = _derive(index_secret, b"blind-index/v1")
        self._audit_key = _derive(index_secret, b"audit-chain/v1")
        self._index_secret = index_secret

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._raw)

    def refresh(self, *, force: bool = False) -> None:
        """Reload the key file if it changed (checked at most every REFRESH_SECONDS, unless
        forced). A file that cannot be read now keeps the keys already loaded."""
        if self.source is None or (not force and time.monotonic() - self._checked < REFRESH_SECONDS):
            return
        with self._lock:
            self._checked = time.monotonic()
            stamp = _stamp(self.source)
            if stamp == self._stamp:
                return
            try:
                fresh = Keyring.load(self.source)
            except CryptoError:
                log.warning("the master key file changed and could not be read; keeping the keys loaded")
                return
            if fresh._index_secret != self._index_secret:
                log.error("the master key file now holds another blind-index secret; keeping the keys loaded")
                return
            self._set(fresh._raw, fresh.active_kid, fresh._index_secret)
            self._stamp = stamp
            log.info("master key file reloaded (active key %s)", self.active_kid)

    def __repr__(self) -> str:
        return f"Keyring(active_kid={self.active_kid!r}, kids={sorted(self._raw)!r})"

    # key file -------------------------------------------------------------------------
    @classmethod
    def generate(cls) -> Keyring:
        return cls({"k1": secrets.token_bytes(32)}, "k1", secrets.token_bytes(32))

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """From the key file. A file that others (not owner, not group) may read is refused: the
        master key opens every case. (A secret mounted by systemd-creds, Kubernetes or a Vault
        agent is a file like any other: see the README.)"""
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise CryptoError("master key file not found (run `casebot init`)") from None
        if mode & (stat.S_IROTH | stat.S_IWOTH):
            raise CryptoError("master key file is readable or writable by others: chmod 600 it (or 640 for a group)")
        try:
            return cls.from_text(path.read_text(encoding="utf-8"), source=path)
        except OSError:
            raise CryptoError("master key file cannot be read") from None

    @classmethod
    def from_text(cls, text: str, *, source: Path | None = None) -> Keyring:
        """From a key file's content (the MASTER_KEY environment variable holds the same)."""
        try:
            data = json.loads(text)
            keys = {kid: base64.b64decode(v, validate=True) for kid, v in data["keys"].items()}
            ring = cls(keys, data["active"], base64.b64decode(data["index"], validate=True), source=source)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CryptoError("master key is not readable as a key file") from None
        if any(len(k) != 32 for k in keys.values()):
            raise CryptoError("master key file holds a key of the wrong length")
        return ring

    def to_text(self) -> str:
        return json.dumps({
            "format": 1,
            "active": self.active_kid,
            "keys": {kid: base64.b64encode(k).decode() for kid, k in self._raw.items()},
            "index": base64.b64encode(self._index_secret).decode(),
        })

    def save(self, path: Path) -> None:
        """Write the key file readable by its owner only (created 0600, never world-readable)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.to_text())
        os.replace(tmp, path)  # atomic: a running instance reads the old file or the new one
        os.chmod(path, 0o600)

    def rotated(self) -> Keyring:
        """A keyring with a new active master key; the old ones stay for unwrapping."""
        number = max(int(kid[1:]) for kid in self._raw if kid[1:].isdigit()) + 1
        keys = dict(self._raw, **{f"k{number}": secrets.token_bytes(32)})
        return Keyring(keys, f"k{number}", self._index_secret)

    def without(self, retired: set[str]) -> Keyring:
        """A keyring without these (no longer used) keys; the active one always stays."""
        keys = {kid: k for kid, k in self._raw.items() if kid not in retired or kid == self.active_kid}
        return Keyring(keys, self.active_kid, self._index_secret)

    # data keys ------------------------------------------------------------------------
    def wrap(self, data_key: DataKey, *, aad: str) -> WrappedKey:
        self.refresh()  # a rotation made another key active: new keys are wrapped by it
        kid = self.active_kid
        blob = seal(self._wrapping[kid], data_key._key, aad.encode())
        return WrappedKey(kid, blob)

    def unwrap(self, wrapped: WrappedKey, *, aad: str) -> DataKey:
        if wrapped.kid not in self._wrapping:
            self.refresh(force=True)  # wrapped by a key a rotation added since this instance loaded
        try:
            wrapping = self._wrapping[wrapped.kid]
        except KeyError:
            raise CryptoError("data key was wrapped by a master key that is not in the key file") from None
        return DataKey(open_sealed(wrapping, bytes(wrapped.blob), aad.encode()))

    def system_key(self, purpose: str, kid: str | None = None) -> tuple[str, DataKey]:
        """(key id, key) for data the installation holds in transit rather than per case (the
        inbox of updates): derived from a master key, so a rotated key file still reads what the
        previous key wrote. Without `kid`, the active key."""
        if kid is None:
            self.refresh()
        kid = kid or self.active_kid
        key = self._system.get((purpose, kid))
        if key is None:  # derived once per purpose and key id (it is asked for with every update)
            if kid not in self._raw:
                self.refresh(force=True)
            try:
                raw = self._raw[kid]
            except KeyError:
                raise CryptoError("a system key was derived from a master key that is not in the key file") from None
            key = self._system[(purpose, kid)] = DataKey(_derive(raw, b"system/" + purpose.encode() + b"/" + kid.encode()))
        return kid, key

    def audit_mac(self, message: bytes) -> str:
        """The audit chain's keyed hash: without the key, a changed trail cannot be re-chained.
        Derived from the secret that does not rotate, so the whole chain stays verifiable."""
        return hmac.new(self._audit_key, message, hashlib.sha256).hexdigest()

    # blind index ----------------------------------------------------------------------
    def blind_index(self, scope: str, *parts: str) -> str:
        message = "\x1f".join((scope, *parts)).encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def normalise_name(given: str, family: str) -> str:
    """Name key for duplicate detection (domain/names.py): case, accents, separators and the
    order of name parts do not matter (given and family names are often swapped between documents)."""
    return exact_key(given, family)
