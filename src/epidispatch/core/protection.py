"""Personal data at rest (PIPL): encrypted values and exact-match lookup digests.

An ID number or phone is stored twice, never in clear: Fernet-encrypted (readable only with
the data key, for the rare audited unmasked view) and as a keyed HMAC-SHA256 digest, so
"find the resident with this ID number" is an indexed equality lookup without decrypting
anything. Both sub-keys are derived from settings.EPIDISPATCH_DATA_KEY with HKDF.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        settings.EPIDISPATCH_DATA_KEY.encode()
    )


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"epidispatch encryption")))


@lru_cache(maxsize=1)
def _lookup_key() -> bytes:
    return _derive(b"epidispatch lookup")


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def lookup_digest(value: str) -> str:
    """Keyed digest of a normalised value, for exact-match lookups."""
    return hmac.new(_lookup_key(), value.encode(), hashlib.sha256).hexdigest()


#: SHA-256's block size in bytes, the length HMAC pads its key to.
SHA256_BLOCK = 64


def lookup_digests(values: list[str]) -> list[str]:
    """`lookup_digest` of many values (an import's worth), without repeated key lookups."""
    # HMAC-SHA256 (RFC 2104) with the key's inner and outer hashes begun once and copied
    # for each value: the same digests as `lookup_digest`, in half the time of calling
    # hmac.new 500,000 times.
    key = _lookup_key()
    if len(key) > SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))
    digests = []
    for value in values:
        hashed = inner.copy()
        hashed.update(value.encode())
        keyed = outer.copy()
        keyed.update(hashed.digest())
        digests.append(keyed.hexdigest())
    return digests


def decrypts(token: str) -> bool:
    """Whether the data key in use decrypts `token` (a value stored under some key)."""
    try:
        decrypt(token)
    except InvalidToken:
        return False
    return True
