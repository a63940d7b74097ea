"""The pseudonym key in the warehouse, and the fingerprint that detects a key change.

dbt pseudonymises case numbers with ``BLOTTER_PSEUDONYM_KEY`` (CONTRACTS.md A). So that no SQL
text, dbt artefact, log or job history ever holds the key, Python writes it into one restricted
table, ``restricted.pseudonym_key`` (one column, one row), through the engine's key store
(``Engine.key_store()``: never in SQL text), and dbt joins to it.

A key change would make the incremental marts merge new pseudonyms next to the old ones
(duplicated incidents, every test green). So the warehouse also keeps, per set of built marts
("published", or a dbt ``schema_prefix`` such as ``dev_``), a salted scrypt FINGERPRINT of the key
that built them (never the key): a command that would build with another key stops with exit 2
and names ``blotter rekey``, which rebuilds every pseudonymised relation from scratch.

Environment variables read here: none (the key comes from the settings).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from engines.base import KeyStore, StoredFingerprint
from orchestration.errors import OperatorError

PUBLISHED = "published"
# scrypt with n=2**14, r=8 (16 MiB, ~50 ms): too slow to try a dictionary of keys against.
_N, _R, _P = 2**14, 8, 1
ALGORITHM = f"scrypt-n{_N}-r{_R}-p{_P}"


@dataclass(frozen=True)
class Fingerprint:
    """A salted slow hash of a key."""

    salt: str
    digest: str
    algorithm: str = ALGORITHM

    @classmethod
    def of(cls, key: str, salt: bytes | None = None) -> Fingerprint:
        """Fingerprint ``key`` with a fresh random salt (or the given one)."""
        salt = salt if salt is not None else os.urandom(16)
        return cls(salt.hex(), _scrypt(key, salt).hex())

    def stored(self) -> StoredFingerprint:
        """The form engines store."""
        return StoredFingerprint(self.salt, self.digest, self.algorithm)

    def matches(self, key: str) -> bool:
        """True when ``key`` is the key this fingerprint was made from."""
        if self.algorithm != ALGORITHM:
            return False
        return hmac.compare_digest(_scrypt(key, bytes.fromhex(self.salt)).hex(), self.digest)


def _scrypt(key: str, salt: bytes) -> bytes:
    return hashlib.scrypt(key.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def scope_of(schema_prefix: str) -> str:
    """The fingerprint scope of marts built with dbt var ``schema_prefix`` ('' = published)."""
    return PUBLISHED if schema_prefix in ("", None) else schema_prefix


class KeyChanged(OperatorError):
    """The key differs from the one that built the marts (exit 2; names the fix)."""


def check(store: KeyStore, key: str, schema_prefix: str, fix: str) -> None:
    """Refuse to build ``<schema_prefix>marts`` with a key other than the one that built them.

    Args:
        store: the target's key store.
        key: BLOTTER_PSEUDONYM_KEY.
        schema_prefix: '' for the published marts, else the dbt schema prefix being built.
        fix: the command that rebuilds them with the new key (named in the message).

    Raises:
        KeyChanged: the key changed, or marts exist whose key was never recorded.
    """
    scope = scope_of(schema_prefix)
    which = "the published marts were" if scope == PUBLISHED else f"{schema_prefix}marts was"
    stored = store.fingerprint(scope)
    if stored is not None:
        recorded = Fingerprint(stored.salt, stored.digest, stored.algorithm)
        if not recorded.matches(key):
            raise KeyChanged(
                f"BLOTTER_PSEUDONYM_KEY changed since {which} built; run `{fix}` to rebuild "
                "every pseudonymised table with the new key (or restore the old key)"
            )
        return
    if store.has_marts(schema_prefix):
        raise KeyChanged(
            f"{which} built without a recorded BLOTTER_PSEUDONYM_KEY fingerprint (by an older "
            f"Blotter), so a key change cannot be ruled out; run `{fix}` once to rebuild them "
            "with the current key"
        )
