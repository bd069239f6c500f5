"""The office's Ed25519 signing keys (签名密钥), kept as files in the data folder.

Each key is one PEM file (PKCS #8, mode 0600) in `DATA_DIR/keys/` named
`<created, UTC>-<key id>.pem`, so the data-folder backup carries them with the database
and a sorted listing gives the keys in the order they were made. The newest key signs;
every key in the folder still verifies, which is what lets a rotation leave the
certificates signed before it valid. Removing a file withdraws its key: the certificates
it signed then verify as `unknown_key`.

The key id is the first 8 hex digits of the SHA-256 of the raw public key: short enough
for every QR code, and derived from the key itself so a file renamed by hand cannot lie
about which key it holds.
"""

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    key: Ed25519PublicKey
    created: datetime

    def jwk(self) -> dict:
        """The key as a JSON Web Key (RFC 8037), the form WebCrypto imports directly."""
        raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
            "kid": self.key_id,
            "use": "sig",
            "alg": "EdDSA",
        }


def keys_dir() -> Path:
    """`EPIDISPATCH_KEYS_DIR` when set (tests), else the data folder's `keys/`."""
    path = Path(getattr(settings, "EPIDISPATCH_KEYS_DIR", None) or settings.DATA_DIR / "keys")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


def _key_files() -> list[Path]:
    return sorted(keys_dir().glob("*.pem"))


def _load(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def key_create() -> PublicKey:
    """Make a new signing key (轮换); from now on it signs, the older ones still verify."""
    private = Ed25519PrivateKey.generate()
    created = datetime.now(UTC)
    key_id = key_id_of(private.public_key())
    path = keys_dir() / f"{created:%Y%m%dT%H%M%S%fZ}-{key_id}.pem"
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return PublicKey(key_id=key_id, key=private.public_key(), created=created)


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """The newest key and its id, made on first use."""
    files = _key_files()
    if not files:
        key_create()
        files = _key_files()
    private = _load(files[-1])
    return key_id_of(private.public_key()), private


def public_keys() -> dict[str, PublicKey]:
    """Every key in the folder by id, oldest first: what verification trusts."""
    keys = {}
    for path in _key_files():
        public = _load(path).public_key()
        created = datetime.strptime(path.name.split("-", 1)[0], "%Y%m%dT%H%M%S%fZ")
        key_id = key_id_of(public)
        keys[key_id] = PublicKey(key_id=key_id, key=public, created=created.replace(tzinfo=UTC))
    return keys
