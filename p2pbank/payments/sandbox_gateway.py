"""The embedded sandbox gateway: Stripe's test mode, offline, inside our own database.

Used whenever no STRIPE_SECRET_KEY is configured, so `make run` works without a network.
It keeps Stripe-shaped objects (payment intents, charges, balance transactions, refunds,
customers, setup intents, Connect accounts, transfers, payouts) in its own tables, in the
caller's transaction, and answers with the same records as the Stripe gateway.

What it reproduces of Stripe's documented test mode:
- test cards (docs.stripe.com/testing): 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002
  is declined (generic_decline), 4000 0000 0000 9995 is declined (insufficient_funds),
  4000 0027 6000 3184 always asks for 3-D Secure authentication, 4000 0000 0000 0341 can
  be saved but every charge is declined; a well-formed real card number is declined
  (test_mode_live_card) and a malformed one is refused (incorrect_number);
- Connect test bank accounts (docs.stripe.com/connect/testing): IBAN
  DE89370400440532013000 is paid out, DE62370400440532013001 fails with no_account;
- idempotency keys: the first answer (object or error) is saved and replayed for the
  same parameters; other parameters under the same key are refused;
- refunds never exceed what is left of the payment;
- fees: Stripe's published standard EEA card price (see p2pbank.payments.rules), in the
  charge's balance transaction;
- events with Stripe's shapes and names, signed with Stripe's scheme at each delivery
  attempt and handed to the same webhook handler as Stripe's.

What it leaves out: the platform's own gateway balance is not tracked (transfers are never
refused for lack of balance), payouts are immediate rather than on a schedule, and keys do
not expire after 24 hours.
"""

from __future__ import annotations

from collections.abc import Mapping

from p2pbank.money import Money
from p2pbank.payments import shapes
from p2pbank.payments.gateway import (
    GatewayAccount,
    GatewayError,
    GatewayTransfer,
)
from p2pbank.payments.rules import iban_is_valid, normalize_iban
from p2pbank.payments.sandbox_cards import (
    TEST_IBAN_PAYOUT_FAILS,
)
from p2pbank.payments.sandbox_money_in import MoneyIn
from p2pbank.payments.sandbox_store import public_view


class SandboxGateway(MoneyIn):
    """PaymentGateway with no network: Stripe's test mode kept in our own tables."""

    # --- money out --------------------------------------------------------------------------

    def create_payout_account(
        self, *, email: str, country: str, reference: Mapping[str, str], idempotency_key: str
    ) -> GatewayAccount:
        params = {"email": email, "country": country, "metadata": dict(reference)}

        def op() -> dict:
            return self._put(
                {
                    "id": self._new_id("acct"),
                    "object": "account",
                    "type": "express",
                    "country": country,
                    "email": email,
                    "created": self._ts(),
                    "capabilities": {"transfers": "inactive"},
                    "details_submitted": False,
                    "payouts_enabled": False,
                    "external_accounts": {"object": "list", "data": []},
                    "metadata": {str(k): str(v) for k, v in reference.items()},
                }
            )

        return shapes.account_from(self._once(idempotency_key, "accounts", params, op))

    def payout_onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        # Stripe would host the onboarding; in test mode the person comes straight back to
        # our payout-account page, which asks for test bank details itself.
        self._get(account_id, "account")
        return return_url

    def complete_test_onboarding(self, account_id: str, *, iban: str) -> GatewayAccount:
        """What Stripe's hosted onboarding does once the person has entered their details
        (test mode only): attach the bank account and enable payouts."""
        account = self._get(account_id, "account")
        number = normalize_iban(iban)
        if not iban_is_valid(number):
            raise GatewayError("The IBAN you provided is invalid.", code="invalid_iban")
        account["external_accounts"] = {
            "object": "list",
            "data": [
                {
                    "id": self._new_id("ba"),
                    "object": "bank_account",
                    "country": number[:2],
                    "last4": number[-4:],
                    "_iban": number,
                }
            ],
        }
        account.update(
            details_submitted=True, payouts_enabled=True, capabilities={"transfers": "active"}
        )
        self._put(account)
        self._emit("account.updated", public_view(account), account=account_id)
        return shapes.account_from(account)

    def transfer_to_account(
        self,
        account_id: str,
        *,
        amount: Money,
        reference: Mapping[str, str],
        idempotency_key: str,
    ) -> GatewayTransfer:
        params = {
            "destination": account_id,
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "metadata": dict(reference),
        }

        def op() -> dict:
            account = self._get(account_id, "account")
            if account.get("capabilities", {}).get("transfers") != "active":
                raise GatewayError(
                    "Your destination account needs to have at least one of the following "
                    "capabilities enabled: transfers.",
                    code="insufficient_capabilities_for_transfer",
                )
            transfer = self._put(
                {
                    "id": self._new_id("tr"),
                    "object": "transfer",
                    "amount": amount.minor,
                    "amount_reversed": 0,
                    "currency": amount.currency.lower(),
                    "destination": account_id,
                    "created": self._ts(),
                    "reversed": False,
                    "metadata": {str(k): str(v) for k, v in reference.items()},
                }
            )
            self._emit("transfer.created", transfer)
            self._pay_out(account, transfer)
            return transfer

        return shapes.transfer_from(self._once(idempotency_key, "transfers", params, op))

    def _pay_out(self, account: dict, transfer: dict) -> None:
        """The connected account's automatic payout of the transfer to its bank."""
        bank = (account.get("external_accounts", {}).get("data") or [{}])[0]
        failure = TEST_IBAN_PAYOUT_FAILS.get(bank.get("_iban", ""))
        payout = self._put(
            {
                "id": self._new_id("po"),
                "object": "payout",
                "amount": transfer["amount"],
                "currency": transfer["currency"],
                "created": self._ts(),
                "arrival_date": self._ts(),
                "destination": bank.get("id"),
                "status": "failed" if failure else "paid",
                "failure_code": failure,
                "failure_message": "The bank account could not be found." if failure else None,
                "metadata": {"transfer": transfer["id"]},
            }
        )
        self._emit("payout.failed" if failure else "payout.paid", payout, account=account["id"])

    def reverse_transfer(self, transfer_id: str, *, idempotency_key: str) -> GatewayTransfer:
        """Take a transfer back from the payout account (Stripe: transfer reversal)."""

        def op() -> dict:
            transfer = self._get(transfer_id, "transfer")
            if transfer["amount_reversed"] >= transfer["amount"]:
                raise GatewayError("This transfer is already reversed.", code="transfer_reversed")
            transfer.update(amount_reversed=transfer["amount"], reversed=True)
            self._put(transfer)
            self._emit("transfer.reversed", transfer)
            return transfer

        return shapes.transfer_from(
            self._once(idempotency_key, "transfers.reversals", {"transfer": transfer_id}, op)
        )
