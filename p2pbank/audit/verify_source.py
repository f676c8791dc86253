"""Fetching for the outside verifier: the log as a source of checkpoints, entries and proofs.

Kept apart so the checks never see HTTP: they take any LogSource (the auditor API over
urllib here, the database for `flask audit-verify`, an in-memory log in tests).
Standard library only, like the verifier.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class SourceError(Exception):
    """The log could not be read (network, HTTP status, malformed response)."""


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    data: bytes  # the canonical JSON the leaf hash commits to
    leaf_hash: bytes  # as the server stores it; recomputed, never trusted
    signature: bytes | None = None  # the log key's signature of the leaf, once signed
    integrated_at: datetime | None = None  # as served: when the sequencer integrated it


class LogSource(Protocol):
    def checkpoint_note(self) -> str: ...

    def entries(self, start: int, end: int) -> list[Entry]: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]: ...


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise SourceError("expected a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise SourceError("malformed base64 in the response") from exc


def json_count(value: object) -> int:
    """A JSON count as the log serves it: a non-negative integer, never a string or bool
    (int() would read "\u0661" as 1, True as 1 and 1.9 as 1)."""
    if type(value) is not int or value < 0:
        raise SourceError(f"expected a non-negative integer, got {value!r:.40}")
    return value


def urllib_fetch(url: str, timeout: float) -> bytes:
    """GET `url` and return the body of a 2xx answer; SourceError otherwise."""
    request = urllib.request.Request(  # noqa: S310 - HttpSource admits http(s) URLs only
        url, headers={"Accept": "application/json", "User-Agent": "p2pbank-audit-verify"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise SourceError(f"HTTP {exc.code} from {url}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SourceError(f"cannot reach {url}: {exc}") from exc


class HttpSource:
    """The auditor API (/api/v1/audit/...) over plain HTTP.

    `fetch(url, timeout) -> body` defaults to urllib; another transport (a proxy-aware
    client, an in-process test client) can be passed in and must raise SourceError for
    anything but a 2xx answer.
    """

    def __init__(self, url: str, timeout: float = 30.0, fetch=urllib_fetch) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SourceError(f"not an http(s) URL: {url!r}")
        base = url.rstrip("/")
        if not base.endswith("/api/v1/audit"):
            base += "/api/v1/audit"
        self.base = base
        self.timeout = timeout
        self.fetch = fetch

    def _get(self, path: str, **params: int) -> dict:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        body = self.fetch(url, self.timeout)
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise SourceError(f"{url} did not answer JSON") from exc
        if not isinstance(document, dict):
            raise SourceError(f"{url} did not answer a JSON object")
        return document

    def key(self) -> str:
        vkey = self._get("/key").get("vkey")
        if not isinstance(vkey, str):
            raise SourceError("the key endpoint did not answer a vkey")
        return vkey

    def checkpoint_note(self) -> str:
        note = self._get("/checkpoint").get("note")
        if not isinstance(note, str):
            raise SourceError("the checkpoint endpoint did not answer a note")
        return note

    def entries(self, start: int, end: int) -> list[Entry]:
        items = self._get("/entries", start=start, end=end).get("entries")
        if not isinstance(items, list):
            raise SourceError("the entries endpoint did not answer a list")
        try:
            return [
                Entry(
                    json_count(e["index"]),
                    unb64(e["data"]),
                    unb64(e["leaf_hash"]),
                    None if e.get("signature") is None else unb64(e["signature"]),
                    _served_time(e.get("integrated_at")),
                )
                for e in items
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError("malformed entry in the response") from exc

    def max_merge_delay(self) -> timedelta | None:
        """The maximum merge delay the log publishes (None if it publishes none)."""
        seconds = self._get("/key").get("max_merge_delay_seconds")
        return None if seconds is None else timedelta(seconds=json_count(seconds))

    def _path(self, document: dict) -> list[bytes]:
        proof = document.get("proof")
        if not isinstance(proof, list):
            raise SourceError("the proof endpoint did not answer a list")
        return [unb64(p) for p in proof]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._path(self._get("/proof/inclusion", index=index, size=size))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self._path(self._get("/proof/consistency", old=old_size, new=new_size))


def _served_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a time is a string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a time without a zone")
    return moment
