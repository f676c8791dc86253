"""Signed notes, note keys and log checkpoints in the C2SP formats (no database, no framework).

- Signed note (https://c2sp.org/signed-note): UTF-8 text ending in a newline, a blank line,
  then one line per signature: "— <key name> <base64(key id || signature)>".
- Ed25519 note keys: the key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public
  key). A verifier key reads "<name>+<key id hex>+<base64(0x01 || public key)>", a signer key
  "PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>" (the encoding of Go's
  golang.org/x/mod/sumdb/note, which the C2SP spec describes).
- Checkpoint (https://c2sp.org/tlog-checkpoint): the note text "<origin>\\n<tree size>\\n
  <base64 root hash>\\n", optionally followed by extension lines.

Only Ed25519 keys are accepted. Parsers raise NoteError with a short reason; verification
of a signature answers True/False.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space open every signature line
MAX_SIGNATURES = 100
HASH_SIZE = 32


class NoteError(ValueError):
    """A key, note or checkpoint that is malformed or does not verify."""


_ASCII_DIGITS = frozenset("0123456789")
_ASCII_HEX = frozenset("0123456789abcdefABCDEF")


def parse_decimal(text: str) -> int:
    """A C2SP decimal: ASCII digits only, no sign, no leading zero (except "0" itself).

    `str.isdigit()` and `int()` also accept digits such as "\u0661" or "\u00b2" and
    surrounding white space or underscores; a checkpoint must mean the same number to
    every reader, so only the one ASCII spelling is accepted.
    """
    if not text or not set(text) <= _ASCII_DIGITS or (len(text) > 1 and text[0] == "0"):
        raise NoteError(f"not an ASCII decimal without leading zeros: {text!r:.40}")
    return int(text)


def valid_key_name(name: str) -> bool:
    """Non-empty, no white space and no '+' (the separator of the key encodings)."""
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of an Ed25519 note key: SHA-256(name || "\\n" || 0x01 || key)[:4]."""
    material = name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key
    return hashlib.sha256(material).digest()[:4]


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError("not valid base64") from exc


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    key_id: bytes
    public_key: bytes

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signer:
    """A named Ed25519 private key (its 32-byte seed) that signs notes."""

    name: str
    key_id: bytes
    seed: bytes

    @property
    def skey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{encoded}"

    @property
    def verifier(self) -> Verifier:
        public = _raw_public(Ed25519PrivateKey.from_private_bytes(self.seed).public_key())
        return Verifier(self.name, self.key_id, public)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def __repr__(self) -> str:  # never print the seed
        return f"Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"


def _split_key(encoded: str) -> tuple[str, bytes, bytes]:
    name, _, rest = encoded.partition("+")
    hash_hex, _, material64 = rest.partition("+")
    if not valid_key_name(name) or len(hash_hex) != 8 or not set(hash_hex) <= _ASCII_HEX:
        raise NoteError("malformed key: expected <name>+<8 hex digits>+<base64 key>")
    claimed = bytes.fromhex(hash_hex)
    material = _b64decode(material64)
    if not material or material[0] != ALG_ED25519:
        raise NoteError("unknown key algorithm (only Ed25519 is supported)")
    if len(material) != 33:
        raise NoteError("an Ed25519 key has 32 bytes")
    return name, claimed, material[1:]


def parse_vkey(vkey: str) -> Verifier:
    """Read "<name>+<key id>+<base64 key>"; the key id must match the name and key."""
    name, claimed, public = _split_key(vkey.strip())
    if key_id(name, public) != claimed:
        raise NoteError("the key id does not match the name and public key")
    return Verifier(name, claimed, public)


def parse_skey(skey: str) -> Signer:
    """Read "PRIVATE+KEY+<name>+<key id>+<base64 seed>"; the key id must match."""
    skey = skey.strip()
    if not skey.startswith("PRIVATE+KEY+"):
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    name, claimed, seed = _split_key(skey[len("PRIVATE+KEY+") :])
    public = _raw_public(Ed25519PrivateKey.from_private_bytes(seed).public_key())
    if key_id(name, public) != claimed:
        raise NoteError("the key id does not match the name and public key")
    return Signer(name, claimed, seed)


def generate_signer(name: str) -> Signer:
    """A fresh Ed25519 key pair under `name` (use the log's origin, e.g. example.org/log)."""
    if not valid_key_name(name):
        raise NoteError("a key name is non-empty, without spaces or '+'")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    return Signer(name, key_id(name, _raw_public(private.public_key())), seed)


# --- notes --------------------------------------------------------------------------------


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("a note text ends with a newline")
    if "\n\n" in text:
        raise NoteError("a note text has no blank lines")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("a note text has no control characters")


def sign_note(text: str, signer: Signer) -> str:
    """The signed note: text, a blank line, and the signature line."""
    _check_text(text)
    signature = signer.sign(text.encode())
    blob = base64.b64encode(signer.key_id + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class SignatureLine:
    name: str
    key_id: bytes
    signature: bytes


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """(text, signature lines) of a well-formed note, verifying nothing."""
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise NoteError("malformed note: control characters")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("malformed note: the signature block ends with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note: too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed note: a signature line starts with an em dash")
        name, _, blob64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        blob = _b64decode(blob64) if blob64 else b""
        if not valid_key_name(name) or len(blob) < 5:
            raise NoteError("malformed note: bad signature line")
        signatures.append(SignatureLine(name, blob[:4], blob[4:]))
    return text, signatures


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text if `verifier` signed it; NoteError otherwise.

    Signatures by other keys are ignored (a note may carry witnesses' cosignatures); a
    signature line under our name and key id that does not verify is an error.
    """
    text, signatures = split_note(note)
    ours = [s for s in signatures if s.name == verifier.name and s.key_id == verifier.key_id]
    if not ours:
        raise NoteError(f"the note carries no signature by {verifier.name}+{verifier.key_id.hex()}")
    for line in ours:
        if not verifier.verify(text.encode(), line.signature):
            raise NoteError(f"invalid signature for key {verifier.name}+{verifier.key_id.hex()}")
    return text


# --- checkpoints --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint body (the verified text of a note)."""
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash")
    origin, size_text, root64, *extensions = lines
    if not origin:
        raise NoteError("malformed checkpoint origin")
    try:
        size = parse_decimal(size_text)
    except NoteError as exc:
        raise NoteError("malformed checkpoint size") from exc
    root = _b64decode(root64)
    if len(root) != HASH_SIZE:
        raise NoteError("a checkpoint root hash has 32 bytes")
    if any(not line for line in extensions):
        raise NoteError("malformed checkpoint extension line")
    return Checkpoint(origin, size, root, tuple(extensions))


def sign_checkpoint_note(checkpoint: Checkpoint, signer: Signer) -> str:
    return sign_note(checkpoint.text(), signer)


def open_checkpoint(note: str, verifier: Verifier, origin: str | None = None) -> Checkpoint:
    """Verify the signature, then parse; `origin`, when given, must match the first line."""
    checkpoint = parse_checkpoint(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint
