"""Input and output shapes of the ledger (marshmallow, no framework). Amounts are integer
minor units with their currency; never floats."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from p2pbank.audit.journal import canonical_time
from p2pbank.ledger.log_check import MAX_RECORDS_PER_PAGE
from p2pbank.ledger.queries import MAX_PER_PAGE
from p2pbank.paging import PagedOut

Minor = fields.Integer


class StatementQuery(Schema):
    page = fields.Integer(strict=False, load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(
        strict=False, load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )


class LedgerAccountsQuery(StatementQuery):
    prefix = fields.String(load_default="", validate=validate.Length(max=120))


class WalletHoldOut(Schema):
    id = fields.Integer()
    amount_minor = Minor()
    currency = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    memo = fields.String()
    ref_type = fields.String(allow_none=True)
    ref_id = fields.Integer(allow_none=True)


class WalletOut(Schema):
    account_code = fields.String()
    currency = fields.String()
    posted_minor = Minor(attribute="posted")
    held_minor = Minor(attribute="held")
    available_minor = Minor(attribute="available")
    open_holds = fields.List(fields.Nested(WalletHoldOut))


class StatementLineOut(Schema):
    posting_id = fields.Integer()
    entry_id = fields.Integer()
    created_at = fields.DateTime()
    kind = fields.String()
    memo = fields.String()
    amount_minor = Minor()
    balance_after_minor = Minor()
    ref_type = fields.String(allow_none=True)
    ref_id = fields.Integer(allow_none=True)
    reverses_entry_id = fields.Integer(allow_none=True)


class StatementOut(PagedOut):
    account_code = fields.String()
    currency = fields.String()
    lines = fields.List(fields.Nested(StatementLineOut))


class LedgerAccountOut(Schema):
    id = fields.Integer()
    code = fields.String()
    type = fields.String()
    currency = fields.String()
    owner_id = fields.Integer(allow_none=True)
    no_negative = fields.Boolean()
    posted_minor = Minor(attribute="posted")
    held_minor = Minor(attribute="held")
    available_minor = Minor(attribute="available")
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


class LedgerAccountPageOut(PagedOut):
    accounts = fields.List(fields.Nested(LedgerAccountOut))


class LedgerPostingOut(Schema):
    id = fields.Integer()
    account_code = fields.String()
    account_type = fields.String()
    amount_minor = Minor()
    balance_after_minor = Minor()
    side = fields.String()


class JournalEntryOut(Schema):
    id = fields.Integer()
    idempotency_key = fields.String()
    kind = fields.String()
    currency = fields.String()
    memo = fields.String()
    ref_type = fields.String(allow_none=True)
    ref_id = fields.Integer(allow_none=True)
    gateway_ref = fields.String(allow_none=True)
    created_at = fields.DateTime()
    content_hash = fields.String()
    reverses_entry_id = fields.Integer(allow_none=True)
    reversed_by_entry_id = fields.Integer(allow_none=True)
    postings = fields.List(fields.Nested(LedgerPostingOut))


class TrialBalanceRowOut(Schema):
    currency = fields.String()
    type = fields.String()
    accounts = fields.Integer()
    debit_minor = Minor(attribute="debit")
    credit_minor = Minor(attribute="credit")


class TrialBalanceOut(Schema):
    balanced = fields.Boolean()
    rows = fields.List(fields.Nested(TrialBalanceRowOut))
    totals = fields.Method("_totals")

    def _totals(self, trial) -> list[dict]:
        return [
            {"currency": currency, "debit_minor": debit, "credit_minor": credit}
            for currency, (debit, credit) in sorted(trial.totals.items())
        ]


class JournalQuery(Schema):
    after = fields.Integer(strict=False, load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(
        strict=False, load_default=200, validate=validate.Range(min=1, max=MAX_RECORDS_PER_PAGE)
    )


class JournalPostingOut(Schema):
    account_code = fields.String()
    amount_minor = Minor()


class JournalRecordOut(Schema):
    """Every field an entry's content hash covers, spelled as the hash spells it."""

    id = fields.Integer(attribute="entry_id")
    idempotency_key = fields.String()
    kind = fields.String()
    currency = fields.String()
    postings = fields.Method("_postings")
    ref_type = fields.String(allow_none=True)
    ref_id = fields.Integer(allow_none=True)
    gateway_ref = fields.String(allow_none=True)
    memo = fields.String()
    reverses_entry_id = fields.Integer(allow_none=True)
    created_at = fields.Method("_created_at")

    def _postings(self, record) -> list[dict]:
        return JournalPostingOut(many=True).dump(
            [{"account_code": code, "amount_minor": amount} for code, amount in record.postings]
        )

    def _created_at(self, record) -> str:
        return canonical_time(record.created_at)


class JournalPageOut(Schema):
    entries = fields.List(fields.Nested(JournalRecordOut))
    next_after = fields.Integer(allow_none=True)


class PromiseOut(Schema):
    origin = fields.String(metadata={"description": "the log's origin (checkpoint first line)"})
    key_id = fields.String(metadata={"description": "hex id of the log's note key"})
    content_hash = fields.String(
        metadata={
            "description": "base64 SHA-256 of the leaf's canonical JSON without its sequence "
            "number (p2pbank.audit.promises)"
        }
    )
    queued_at = fields.String(metadata={"description": "the leaf's time: when it was queued"})
    integrate_by = fields.String(metadata={"description": "queued_at + maximum merge delay"})
    signature = fields.String(metadata={"description": "base64 Ed25519 over the statement"})


class EntryPromiseOut(Schema):
    entry_id = fields.Integer()
    promise = fields.Nested(PromiseOut)
    log_index = fields.Integer(
        allow_none=True, metadata={"description": "the leaf's index once integrated, else null"}
    )
