"""The credentials vault: Fernet encryption under CREDENTIALS_KEY, with key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from portal.core.vault import CredentialsUnreadable, Vault, VaultKeyError, token_hint

TOKEN = "pk_81000001_VAULTTESTTOKEN0123456789"


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_round_trip_and_the_token_is_not_readable_in_the_ciphertext():
    vault = Vault([new_key()])
    stored = vault.encrypt({"token": TOKEN})
    assert TOKEN not in stored
    assert "VAULTTEST" not in stored
    assert vault.decrypt(stored) == {"token": TOKEN}


def test_each_encryption_differs():
    vault = Vault([new_key()])
    assert vault.encrypt({"token": TOKEN}) != vault.encrypt({"token": TOKEN})


def test_another_key_cannot_decrypt_and_the_error_says_what_to_do():
    stored = Vault([new_key()]).encrypt({"token": TOKEN})
    with pytest.raises(CredentialsUnreadable) as caught:
        Vault([new_key()]).decrypt(stored)
    message = str(caught.value)
    assert "CREDENTIALS_KEY" in message and "Enter the token again" in message
    assert TOKEN not in message and stored not in message
    # Nothing of the ciphertext or the key leaks through the exception chain either.
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("garbage", ["", "not a fernet token", "gAAAAA" + "x" * 40])
def test_garbage_is_unreadable_not_a_crash(garbage):
    with pytest.raises(CredentialsUnreadable):
        Vault([new_key()]).decrypt(garbage)
    with pytest.raises(CredentialsUnreadable):
        Vault([new_key()]).rotate(garbage)


def test_newest_key_encrypts_and_every_listed_key_decrypts():
    old, new = new_key(), new_key()
    stored_with_old = Vault([old]).encrypt({"token": TOKEN})
    both = Vault([new, old])
    assert both.decrypt(stored_with_old) == {"token": TOKEN}
    stored_with_both = both.encrypt({"token": TOKEN})
    assert Vault([new]).decrypt(stored_with_both) == {"token": TOKEN}
    with pytest.raises(CredentialsUnreadable):
        Vault([old]).decrypt(stored_with_both)


def test_rotate_reencrypts_so_that_only_the_new_key_decrypts():
    old, new = new_key(), new_key()
    stored = Vault([old]).encrypt({"token": TOKEN})
    rotated = Vault([new, old]).rotate(stored)
    assert rotated != stored
    assert Vault([new]).decrypt(rotated) == {"token": TOKEN}
    with pytest.raises(CredentialsUnreadable):
        Vault([old]).decrypt(rotated)


def test_keys_are_stripped_as_they_come_from_a_comma_separated_setting():
    key = new_key()
    stored = Vault([f"  {key} "]).encrypt({"token": TOKEN})
    assert Vault([key]).decrypt(stored) == {"token": TOKEN}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["not-a-key"], "entry 1 is not a Fernet key"),
        ([Fernet.generate_key().decode(), "short"], "entry 2 is not a Fernet key"),
        ([], "holds no key"),
    ],
)
def test_malformed_keys_are_refused_with_the_fix(keys, expected):
    with pytest.raises(VaultKeyError) as caught:
        Vault(keys)
    assert expected in str(caught.value)
    assert "pm-portal generate-credentials-key" in str(caught.value)


def test_generated_keys_work():
    key = Vault.generate_key()
    assert Vault([key]).decrypt(Vault([key]).encrypt({"token": TOKEN})) == {"token": TOKEN}


def test_token_hint_is_the_last_four_characters_of_a_long_token_only():
    assert token_hint(TOKEN) == "6789"
    # A short token would be half given away by four characters.
    assert token_hint("short-tok") == ""
