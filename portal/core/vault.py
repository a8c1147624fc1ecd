"""Encryption of stored provider credentials (Fernet, through MultiFernet so keys rotate)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import UserFacingError


class VaultKeyError(Exception):
    """CREDENTIALS_KEY is malformed; the message says how to make a good one."""


class CredentialsUnreadable(UserFacingError):
    """A stored credential can't be decrypted with any configured key."""

    error_class = "credentials_unreadable"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "The stored credentials can't be decrypted with the configured CREDENTIALS_KEY "
            "(was the key changed?). Enter the token again to repair this connection."
        )


class Vault:
    """Encrypts credential dicts with the newest key; decrypts with any configured key."""

    def __init__(self, keys: Iterable[str]):
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode()))
            except (ValueError, TypeError):
                raise VaultKeyError(
                    f"CREDENTIALS_KEY entry {position} is not a Fernet key (32 url-safe base64-encoded "
                    "bytes). Generate one with `pm-portal generate-credentials-key`."
                ) from None
        if not fernets:
            raise VaultKeyError(
                "CREDENTIALS_KEY holds no key. Generate one with `pm-portal generate-credentials-key`."
            )
        self._fernet = MultiFernet(fernets)

    def encrypt(self, credentials: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        """The credential dict stored in `token`.

        Raises CredentialsUnreadable when no configured key decrypts it.
        """
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError, TypeError):
            raise CredentialsUnreadable() from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored credential with the newest key.

        Raises CredentialsUnreadable when no configured key decrypts it.
        """
        try:
            return self._fernet.rotate(token.encode()).decode()
        except (InvalidToken, ValueError, TypeError):
            raise CredentialsUnreadable() from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()


def token_hint(token: str) -> str:
    """What a page may show of a token: its last four characters."""
    return token[-4:] if len(token) >= 12 else ""
