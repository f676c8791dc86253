"""Test-only Stripe servers, run in a subprocess by tests/payments/conftest.py.

1. localstripe (a stateful fake Stripe server; GPL, a test dependency only) on 127.0.0.1
   and a free port. Its habit of pickling its store to a shared file in /tmp is switched
   off, so parallel test runs never share state.
2. In front of it, on another free port, a small fake of the parts of Stripe's documented
   behaviour that localstripe does not implement; everything else passes through:
   - PaymentIntent.amount_received (the amount collected; less after a partial capture),
     which localstripe leaves out;
   - idempotency keys: the first response to a key is saved and replayed for the same
     request; the same key with other parameters is refused with `idempotency_error`
     (docs.stripe.com/api/idempotent_requests);
   - refund limits: a refund larger than what is left of the payment is refused
     (`amount_too_large`), a fully refunded payment cannot be refunded again
     (`charge_already_refunded`) (docs.stripe.com/api/refunds/create);
   - Connect Express accounts, account links, transfers and transfer reversals
     (docs.stripe.com/connect), with `account.updated`, `transfer.created`,
     `transfer.reversed` and the connected account's `payout.paid` / `payout.failed`
     events, using Stripe's test IBANs (docs.stripe.com/connect/testing): the
     account's bank payout fails with no_account for DE62370400440532013001;
   - `POST /_fake/accounts/{id}/onboard` stands in for the person finishing Stripe's
     hosted onboarding (bank account attached, payouts enabled).
   Webhooks registered with `POST /_config/webhooks/<name>` receive the fake's events too,
   signed exactly as Stripe (and localstripe) sign them.

Prints one JSON line {"localstripe": port, "fake": port} when both listen.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import socket
import sys
import time

from aiohttp import ClientSession, web
from localstripe import server as localstripe_server
from localstripe.resources import store
from localstripe.server import unflatten_data

store.dump_to_disk = lambda: None  # keep the store in memory only

FAIL_PAYOUT_IBANS = {"DE62370400440532013001": "no_account"}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _error(status: int, message: str, *, code: str | None = None, kind="invalid_request_error"):
    body = {"error": {"type": kind, "message": message}}
    if code:
        body["error"]["code"] = code
    return web.json_response(body, status=status)


class Fake:
    def __init__(self, upstream: str):
        self.upstream = upstream
        self.accounts: dict[str, dict] = {}
        self.transfers: dict[str, dict] = {}
        self.captured: dict[str, int] = {}
        self.saved: dict[str, tuple[str, int, bytes, str]] = {}
        self.webhooks: dict[str, tuple[str, str]] = {}
        self.http: ClientSession | None = None
        self.base = ""

    # --- plumbing --------------------------------------------------------------------------

    async def forward(self, request: web.Request, body: bytes) -> web.Response:
        assert self.http is not None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type", "stripe-version")
        }
        async with self.http.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as upstream:
            payload = await upstream.read()
            status = upstream.status
            content_type = upstream.content_type or "application/json"
        if request.path.startswith("/v1/payment_intents") and status == 200:
            payload = self.add_amount_received(request, payload)
        return web.Response(body=payload, status=status, content_type=content_type)

    def add_amount_received(self, request: web.Request, payload: bytes) -> bytes:
        """localstripe leaves out PaymentIntent.amount_received; Stripe documents it as the
        amount that was collected: the captured amount (a partial capture collects less)."""
        body = json.loads(payload)
        if request.path.endswith("/capture") and body.get("object") == "payment_intent":
            wanted = request.get("capture_amount")
            self.captured[body["id"]] = int(wanted) if wanted else int(body["amount"])
        objects = body.get("data", []) if body.get("object") == "list" else [body]
        for obj in objects:
            if obj.get("object") == "payment_intent" and "amount_received" not in obj:
                collected = obj["amount"] if obj.get("status") == "succeeded" else 0
                obj["amount_received"] = self.captured.get(obj["id"], collected)
        return json.dumps(body).encode()

    async def upstream_json(self, path: str, headers) -> tuple[int, dict]:
        assert self.http is not None
        async with self.http.get(
            self.upstream + path, headers={"Authorization": headers.get("Authorization", "")}
        ) as upstream:
            return upstream.status, await upstream.json()

    async def send_event(self, event_type: str, obj: dict, account: str | None = None) -> None:
        created = int(time.time())
        event = {
            "id": _id("evt"),
            "object": "event",
            "api_version": "2025-06-30.basil",
            "created": created,
            "data": {"object": obj},
            "livemode": False,
            "type": event_type,
        }
        if account:
            event["account"] = account
        payload = json.dumps(event, sort_keys=True).encode()
        await asyncio.sleep(0.05)
        assert self.http is not None
        for url, secret in list(self.webhooks.values()):
            mac = hmac.new(secret.encode(), b"%d." % created + payload, hashlib.sha256)
            header = f"t={created},v1={mac.hexdigest()}"
            try:
                async with self.http.post(
                    url,
                    data=payload,
                    headers={"Content-Type": "application/json", "Stripe-Signature": header},
                ):
                    pass
            except OSError:
                pass

    def emit(self, event_type: str, obj: dict, account: str | None = None) -> None:
        public = json.loads(json.dumps(obj, default=str))
        for bank in public.get("external_accounts", {}).get("data", []):
            bank.pop("_iban", None)
        asyncio.ensure_future(self.send_event(event_type, public, account))

    # --- idempotency -------------------------------------------------------------------------

    @web.middleware
    async def idempotency(self, request: web.Request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith("/v1/"):
            return await handler(request)
        body = await request.read()
        fields = sorted((await request.post()).items()) if body else []
        fingerprint = hashlib.sha256(
            json.dumps([request.path, fields], default=str).encode()
        ).hexdigest()
        if key in self.saved:
            saved_fp, status, payload, ctype = self.saved[key]
            if saved_fp != fingerprint:
                return _error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    kind="idempotency_error",
                )
            response = web.Response(body=payload, status=status, content_type=ctype)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = await handler(request)
        self.saved[key] = (fingerprint, response.status, response.body, response.content_type)
        return response

    # --- routes ------------------------------------------------------------------------------

    async def data(self, request: web.Request) -> dict:
        return unflatten_data(await request.post()) or {}

    async def passthrough(self, request: web.Request) -> web.Response:
        if request.method == "POST" and request.path.endswith("/capture"):
            request["capture_amount"] = (await self.data(request)).get("amount_to_capture")
        return await self.forward(request, await request.read())

    async def config_webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        data = await self.data(request)
        self.webhooks[request.match_info["name"]] = (data.get("url", ""), data.get("secret", ""))
        return await self.forward(request, body)

    async def create_refund(self, request: web.Request) -> web.Response:
        body = await request.read()
        data = await self.data(request)
        pi_id = data.get("payment_intent")
        if pi_id:
            status, pi = await self.upstream_json(f"/v1/payment_intents/{pi_id}", request.headers)
            if status == 200 and pi.get("status") == "succeeded":
                _, refunds = await self.upstream_json(
                    f"/v1/refunds?payment_intent={pi_id}&limit=100", request.headers
                )
                taken = sum(int(r["amount"]) for r in refunds.get("data", []))
                left = int(pi.get("amount_received", pi["amount"])) - taken
                wanted = int(data.get("amount") or left)
                if left <= 0:
                    return _error(
                        400,
                        f"Charge {pi.get('latest_charge', {}).get('id', '')} has already been "
                        "refunded.",
                        code="charge_already_refunded",
                    )
                if wanted > left:
                    return _error(
                        400,
                        f"Refund amount ({wanted}) is greater than unrefunded amount on charge "
                        f"({left}).",
                        code="amount_too_large",
                    )
        return await self.forward(request, body)

    async def create_account(self, request: web.Request) -> web.Response:
        data = await self.data(request)
        if data.get("type") not in ("express", "custom", "standard"):
            return _error(400, "Invalid type: must be one of express, custom or standard.")
        country = str(data.get("country") or "US")
        if len(country) != 2:
            return _error(400, "Country must be a two-letter code.")
        account = {
            "id": _id("acct"),
            "object": "account",
            "type": data["type"],
            "country": country,
            "email": data.get("email"),
            "created": int(time.time()),
            "capabilities": {"transfers": "inactive"},
            "charges_enabled": False,
            "details_submitted": False,
            "payouts_enabled": False,
            "external_accounts": {"object": "list", "data": []},
            "metadata": data.get("metadata") or {},
        }
        self.accounts[account["id"]] = account
        return web.json_response(self.public(account))

    def public(self, account: dict) -> dict:
        out = json.loads(json.dumps(account))
        for bank in out["external_accounts"]["data"]:
            bank.pop("_iban", None)
        return out

    async def get_account(self, request: web.Request) -> web.Response:
        account = self.accounts.get(request.match_info["id"])
        if account is None:
            return _error(404, "No such account.", code="resource_missing")
        return web.json_response(self.public(account))

    async def create_account_link(self, request: web.Request) -> web.Response:
        data = await self.data(request)
        account = self.accounts.get(str(data.get("account")))
        if account is None:
            return _error(400, "No such account.", code="resource_missing")
        if not data.get("refresh_url") or not data.get("return_url"):
            return _error(400, "refresh_url and return_url are required.")
        if data.get("type") not in ("account_onboarding", "account_update"):
            return _error(400, "Invalid type.")
        created = int(time.time())
        return web.json_response(
            {
                "object": "account_link",
                "created": created,
                "expires_at": created + 300,
                "url": f"{self.base}/_fake/onboarding/{account['id']}",
            }
        )

    async def onboard(self, request: web.Request) -> web.Response:
        account = self.accounts.get(request.match_info["id"])
        if account is None:
            return _error(404, "No such account.", code="resource_missing")
        data = await self.data(request)
        iban = str(data.get("iban", "")).replace(" ", "").upper()
        account["external_accounts"]["data"] = [
            {
                "id": _id("ba"),
                "object": "bank_account",
                "country": iban[:2],
                "last4": iban[-4:],
                "_iban": iban,
            }
        ]
        account.update(
            details_submitted=True, payouts_enabled=True, capabilities={"transfers": "active"}
        )
        self.emit("account.updated", account, account=account["id"])
        return web.json_response(self.public(account))

    async def create_transfer(self, request: web.Request) -> web.Response:
        data = await self.data(request)
        try:
            amount = int(data.get("amount"))
        except (TypeError, ValueError):
            return _error(400, "Invalid integer: amount")
        if amount <= 0:
            return _error(400, "Amount must be at least 1.")
        account = self.accounts.get(str(data.get("destination")))
        if account is None:
            return _error(400, "No such destination.", code="resource_missing")
        if account["capabilities"].get("transfers") != "active":
            return _error(
                400,
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
            )
        transfer = {
            "id": _id("tr"),
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "currency": str(data.get("currency") or "eur"),
            "destination": account["id"],
            "created": int(time.time()),
            "reversed": False,
            "metadata": data.get("metadata") or {},
        }
        self.transfers[transfer["id"]] = transfer
        self.emit("transfer.created", transfer)
        bank = (account["external_accounts"]["data"] or [{}])[0]
        failure = FAIL_PAYOUT_IBANS.get(bank.get("_iban", ""))
        payout = {
            "id": _id("po"),
            "object": "payout",
            "amount": amount,
            "currency": transfer["currency"],
            "created": int(time.time()),
            "status": "failed" if failure else "paid",
            "failure_code": failure,
            "failure_message": "The bank account could not be found." if failure else None,
        }
        self.emit("payout.failed" if failure else "payout.paid", payout, account=account["id"])
        return web.json_response(transfer)

    async def get_transfer(self, request: web.Request) -> web.Response:
        transfer = self.transfers.get(request.match_info["id"])
        if transfer is None:
            return _error(404, "No such transfer.", code="resource_missing")
        return web.json_response(transfer)

    async def list_transfers(self, request: web.Request) -> web.Response:
        items = sorted(self.transfers.values(), key=lambda t: t["created"], reverse=True)
        after = request.query.get("starting_after")
        if after:
            ids = [t["id"] for t in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        limit = int(request.query.get("limit", 10))
        return web.json_response(
            {
                "object": "list",
                "url": "/v1/transfers",
                "has_more": len(items) > limit,
                "data": items[:limit],
            }
        )

    async def reverse_transfer(self, request: web.Request) -> web.Response:
        transfer = self.transfers.get(request.match_info["id"])
        if transfer is None:
            return _error(404, "No such transfer.", code="resource_missing")
        if transfer["amount_reversed"] >= transfer["amount"]:
            return _error(400, "This transfer is already fully reversed.")
        transfer.update(amount_reversed=transfer["amount"], reversed=True)
        self.emit("transfer.reversed", transfer)
        return web.json_response(
            {
                "id": _id("trr"),
                "object": "transfer_reversal",
                "amount": transfer["amount"],
                "transfer": transfer["id"],
            }
        )

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.idempotency])
        app.router.add_post("/_config/webhooks/{name}", self.config_webhook)
        app.router.add_post("/_fake/accounts/{id}/onboard", self.onboard)
        app.router.add_post("/v1/refunds", self.create_refund)
        app.router.add_post("/v1/accounts", self.create_account)
        app.router.add_get("/v1/accounts/{id}", self.get_account)
        app.router.add_post("/v1/account_links", self.create_account_link)
        app.router.add_post("/v1/transfers", self.create_transfer)
        app.router.add_get("/v1/transfers", self.list_transfers)
        app.router.add_get("/v1/transfers/{id}", self.get_transfer)
        app.router.add_post("/v1/transfers/{id}/reversals", self.reverse_transfer)
        app.router.add_route("*", "/{tail:.*}", self.passthrough)
        return app


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def main() -> None:
    ls_sock, fake_sock = _socket(), _socket()
    ls_port, fake_port = ls_sock.getsockname()[1], fake_sock.getsockname()[1]

    ls_runner = web.AppRunner(localstripe_server.app, access_log=None)
    await ls_runner.setup()
    await web.SockSite(ls_runner, ls_sock).start()

    fake = Fake(f"http://127.0.0.1:{ls_port}")
    fake.base = f"http://127.0.0.1:{fake_port}"
    fake.http = ClientSession()
    fake_runner = web.AppRunner(fake.app(), access_log=None)
    await fake_runner.setup()
    await web.SockSite(fake_runner, fake_sock).start()

    print(json.dumps({"localstripe": ls_port, "fake": fake_port}), flush=True)
    # Run until the parent closes our stdin (or kills us).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await fake.http.close()
    await fake_runner.cleanup()
    await ls_runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
