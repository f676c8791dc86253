"""Signed notes, note keys and checkpoints (p2pbank.audit.note).

Known-answer vectors from the Go reference implementation of signed notes,
golang.org/x/mod/sumdb/note, note_test.go (TestNewVerifier, TestSign, TestOpen): the
PeterNeumann and EnochRoot Ed25519 keys, the signed note of TestSign and the EnochRoot
cosignature of TestOpen. The C2SP signed-note spec (c2sp.org/signed-note) describes that
format; Ed25519 is deterministic (RFC 8032), so signing must reproduce the note byte for byte.
"""

from __future__ import annotations

import base64

import pytest

from p2pbank.audit import note
from p2pbank.audit.note import Checkpoint, NoteError

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
SIGNED = TEXT + "\n" + PETER_SIG


# --- keys -----------------------------------------------------------------------------------


def test_reference_keys_parse_and_match():
    signer = note.parse_skey(PETER_SKEY)
    verifier = note.parse_vkey(PETER_VKEY)
    assert signer.verifier == verifier
    assert verifier.name == "PeterNeumann" and verifier.key_id.hex() == "c74f20a3"
    assert signer.skey == PETER_SKEY and verifier.vkey == PETER_VKEY
    assert note.parse_vkey(ENOCH_VKEY).key_id.hex() == "af0cfe78"


def test_key_id_is_sha256_of_name_newline_algorithm_and_key():
    verifier = note.parse_vkey(PETER_VKEY)
    import hashlib

    expected = hashlib.sha256(b"PeterNeumann\n\x01" + verifier.public_key).digest()[:4]
    assert note.key_id("PeterNeumann", verifier.public_key) == expected == verifier.key_id


def test_every_mangled_verifier_key_is_refused():
    # As TestNewVerifier does: every proper substring and every single-byte change.
    raw = PETER_VKEY.encode()
    for i in range(len(raw) + 1):
        for j in range(i + 1, len(raw) + 1):
            if (i, j) != (0, len(raw)):
                with pytest.raises(NoteError):
                    note.parse_vkey(raw[i:j].decode())
    for i in range(len(raw)):
        changed = bytearray(raw)
        changed[i] += 1
        with pytest.raises((NoteError, UnicodeDecodeError)):
            note.parse_vkey(changed.decode())


@pytest.mark.parametrize(
    "bad",
    [
        # wrong length key, with adjusted key hash (TestNewVerifier)
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        # unknown algorithm, with adjusted key hash (TestNewVerifier)
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_malformed_verifier_keys_are_refused(bad):
    with pytest.raises(NoteError):
        note.parse_vkey(bad)


def test_signer_key_must_say_private_key_and_match_its_id():
    with pytest.raises(NoteError):
        note.parse_skey(PETER_SKEY.replace("PRIVATE+KEY+", ""))
    with pytest.raises(NoteError):
        note.parse_skey(PETER_SKEY.replace("c74f20a3", "c74f20a4"))


def test_generated_keys_round_trip_and_never_print_the_seed():
    signer = note.generate_signer("example.org/log")
    assert note.parse_skey(signer.skey) == signer
    assert note.parse_vkey(signer.verifier.vkey) == signer.verifier
    assert base64.b64encode(signer.seed).decode() not in repr(signer)
    with pytest.raises(NoteError):
        note.generate_signer("has space")
    with pytest.raises(NoteError):
        note.generate_signer("a+b")


# --- notes ----------------------------------------------------------------------------------


def test_signing_reproduces_the_reference_note_byte_for_byte():
    assert note.sign_note(TEXT, note.parse_skey(PETER_SKEY)) == SIGNED


def test_the_reference_note_opens_with_its_key():
    assert note.open_note(SIGNED, note.parse_vkey(PETER_VKEY)) == TEXT


def test_a_cosignature_by_another_key_is_ignored_and_either_key_opens_the_note():
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert note.open_note(both, note.parse_vkey(PETER_VKEY)) == TEXT
    assert note.open_note(both, note.parse_vkey(ENOCH_VKEY)) == TEXT


def test_a_note_without_our_signature_is_refused():
    with pytest.raises(NoteError, match="no signature"):
        note.open_note(TEXT + "\n" + ENOCH_SIG, note.parse_vkey(PETER_VKEY))


def test_every_changed_text_byte_breaks_the_signature():
    verifier = note.parse_vkey(PETER_VKEY)
    for i, ch in enumerate(TEXT[:-1]):
        if ch == "\n":
            continue
        changed = TEXT[:i] + chr(ord(ch) ^ 0x01) + TEXT[i + 1 :]
        with pytest.raises(NoteError):
            note.open_note(changed + "\n" + PETER_SIG, verifier)


def test_a_changed_signature_byte_fails():
    verifier = note.parse_vkey(PETER_VKEY)
    blob = bytearray(base64.b64decode(PETER_SIG.split()[-1]))
    blob[10] ^= 0x01
    bad = TEXT + "\n\u2014 PeterNeumann " + base64.b64encode(bytes(blob)).decode() + "\n"
    with pytest.raises(NoteError, match="invalid signature"):
        note.open_note(bad, verifier)


@pytest.mark.parametrize(
    "message",
    [
        TEXT,  # no signature block
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],  # no final newline
        "\x01" + TEXT + "\n" + PETER_SIG,  # a control character
        TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2p"
        "ZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_malformed_notes_are_refused(message):
    # The malformed messages of TestOpen.
    with pytest.raises(NoteError):
        note.open_note(message, note.parse_vkey(PETER_VKEY))


def test_texts_that_cannot_be_signed():
    signer = note.parse_skey(PETER_SKEY)
    for text in ("no newline", "blank\n\nline\n", "tab\there\n"):
        with pytest.raises(NoteError):
            note.sign_note(text, signer)


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_text_is_origin_size_and_base64_root():
    root = bytes(range(32))
    text = Checkpoint("example.org/log", 42, root).text()
    assert text == f"example.org/log\n42\n{base64.b64encode(root).decode()}\n"
    assert note.parse_checkpoint(text) == Checkpoint("example.org/log", 42, root)


def test_checkpoint_extension_lines_survive_a_round_trip():
    checkpoint = Checkpoint("o", 1, bytes(32), ("ext one", "ext two"))
    assert note.parse_checkpoint(checkpoint.text()) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",
        "origin\n012\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n12\nAAAA\n",
        "\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        note.parse_checkpoint(text)


def test_signed_checkpoint_opens_only_with_its_key_and_origin():
    signer = note.generate_signer("example.org/log")
    checkpoint = Checkpoint("example.org/log", 7, bytes(range(32)))
    signed = note.sign_checkpoint_note(checkpoint, signer)
    assert note.open_checkpoint(signed, signer.verifier) == checkpoint
    assert note.open_checkpoint(signed, signer.verifier, "example.org/log") == checkpoint
    with pytest.raises(NoteError, match="origin"):
        note.open_checkpoint(signed, signer.verifier, "other.org/log")
    other = note.generate_signer("example.org/log")
    with pytest.raises(NoteError):
        note.open_checkpoint(signed, other.verifier)
    with pytest.raises(NoteError):
        note.open_checkpoint(signed.replace("\n7\n", "\n8\n"), signer.verifier)


# --- numbers are ASCII decimals (C2SP) -------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    ["\u0661", "1\u0662", "\u00b2", "\uff11", "+1", " 1", "1 ", "1_0", "00", "01"],
)
def test_a_checkpoint_size_is_ascii_digits_only(size):
    root64 = base64.b64encode(bytes(32)).decode()
    with pytest.raises(NoteError, match="size"):
        note.parse_checkpoint(f"origin\n{size}\n{root64}\n")


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("7", 7), ("1234567890", 1234567890)])
def test_ascii_decimals_parse(text, value):
    assert note.parse_decimal(text) == value


def test_a_signed_checkpoint_with_an_arabic_indic_size_does_not_open():
    signer = note.generate_signer("example.org/log")
    root64 = base64.b64encode(bytes(32)).decode()
    signed = note.sign_note(f"example.org/log\n\u0661\n{root64}\n", signer)
    with pytest.raises(NoteError, match="size"):
        note.open_checkpoint(signed, signer.verifier)


@pytest.mark.parametrize(
    "key_id", ["c74f20a\u0663", "c74f 20a", "c74f20a+", "\uff43\u0037\u0034f20a3"[:8]]
)
def test_a_key_id_is_ascii_hex_only(key_id):
    with pytest.raises(NoteError):
        note.parse_vkey(PETER_VKEY.replace("c74f20a3", key_id))
