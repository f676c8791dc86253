"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-05 08:52:40.831237
"""

import sqlalchemy as sa
from alembic import op

import p2pbank.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# PostgreSQL-only DDL (immutability triggers and the like): (create, drop) pairs.
POSTGRES_DDL = [
    (
        "CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$\nBEGIN\n    RAISE EXCEPTION USING\n        MESSAGE = 'ledger history is immutable: ' || TG_OP || ' on ' || TG_TABLE_NAME,\n        ERRCODE = 'restrict_violation';\nEND;\n$$ LANGUAGE plpgsql",
        "DROP FUNCTION IF EXISTS ledger_refuse_change()",
    ),
    (
        "CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
        "DROP TRIGGER IF EXISTS journal_entries_immutable ON journal_entries",
    ),
    (
        "CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
        "DROP TRIGGER IF EXISTS journal_entries_no_truncate ON journal_entries",
    ),
    (
        "CREATE TRIGGER postings_immutable BEFORE UPDATE OR DELETE ON postings FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
        "DROP TRIGGER IF EXISTS postings_immutable ON postings",
    ),
    (
        "CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
        "DROP TRIGGER IF EXISTS postings_no_truncate ON postings",
    ),
    (
        "CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$\nBEGIN\n    RAISE EXCEPTION USING\n        MESSAGE = 'the audit log is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME,\n        ERRCODE = 'restrict_violation';\nEND;\n$$ LANGUAGE plpgsql",
        "DROP FUNCTION IF EXISTS audit_refuse_change()",
    ),
    (
        "CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE ON audit_leaves FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        "DROP TRIGGER IF EXISTS audit_leaves_append_only ON audit_leaves",
    ),
    (
        "CREATE TRIGGER audit_leaves_no_truncate BEFORE TRUNCATE ON audit_leaves FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        "DROP TRIGGER IF EXISTS audit_leaves_no_truncate ON audit_leaves",
    ),
    (
        "CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        "DROP TRIGGER IF EXISTS audit_nodes_append_only ON audit_nodes",
    ),
    (
        "CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        "DROP TRIGGER IF EXISTS audit_nodes_no_truncate ON audit_nodes",
    ),
    (
        "CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        "DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints",
    ),
    (
        "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        "DROP TRIGGER IF EXISTS audit_checkpoints_no_truncate ON audit_checkpoints",
    ),
    (
        "CREATE OR REPLACE FUNCTION audit_head_only_grows() RETURNS trigger AS $$\nBEGIN\n    IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.size < OLD.size THEN\n        RAISE EXCEPTION USING\n            MESSAGE = 'the audit log head only grows: ' || TG_OP || ' refused',\n            ERRCODE = 'restrict_violation';\n    END IF;\n    RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql",
        "DROP FUNCTION IF EXISTS audit_head_only_grows()",
    ),
    (
        "CREATE TRIGGER audit_log_head_only_grows BEFORE UPDATE OR DELETE ON audit_log_head FOR EACH ROW EXECUTE FUNCTION audit_head_only_grows()",
        "DROP TRIGGER IF EXISTS audit_log_head_only_grows ON audit_log_head",
    ),
    (
        "CREATE TRIGGER audit_log_head_no_truncate BEFORE TRUNCATE ON audit_log_head FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        "DROP TRIGGER IF EXISTS audit_log_head_no_truncate ON audit_log_head",
    ),
    (
        "CREATE OR REPLACE FUNCTION trust_refuse_delete() RETURNS trigger AS $$\nBEGIN\n    RAISE EXCEPTION USING\n        MESSAGE = 'trust records are never deleted: ' || TG_OP || ' on ' || TG_TABLE_NAME,\n        ERRCODE = 'restrict_violation';\nEND;\n$$ LANGUAGE plpgsql",
        "DROP FUNCTION IF EXISTS trust_refuse_delete()",
    ),
    (
        "CREATE TRIGGER trust_ratings_no_delete BEFORE DELETE ON trust_ratings FOR EACH ROW EXECUTE FUNCTION trust_refuse_delete()",
        "DROP TRIGGER IF EXISTS trust_ratings_no_delete ON trust_ratings",
    ),
    (
        "CREATE TRIGGER trust_revision_requests_no_delete BEFORE DELETE ON trust_revision_requests FOR EACH ROW EXECUTE FUNCTION trust_refuse_delete()",
        "DROP TRIGGER IF EXISTS trust_revision_requests_no_delete ON trust_revision_requests",
    ),
    (
        "CREATE TRIGGER trust_transactions_no_delete BEFORE DELETE ON trust_transactions FOR EACH ROW EXECUTE FUNCTION trust_refuse_delete()",
        "DROP TRIGGER IF EXISTS trust_transactions_no_delete ON trust_transactions",
    ),
]


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("key_name", sa.String(length=255), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(root_hash) = 32", name=op.f("ck_audit_checkpoints_root_hash_size")
        ),
        sa.CheckConstraint(
            "tree_size >= 0", name=op.f("ck_audit_checkpoints_tree_size_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
        sa.UniqueConstraint(
            "origin",
            "key_id",
            "tree_size",
            name=op.f("uq_audit_checkpoints_origin_key_id_tree_size"),
        ),
    )
    op.create_table(
        "audit_leaves",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("length(leaf_hash) = 32", name=op.f("ck_audit_leaves_leaf_hash_size")),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_audit_leaves_sequence_non_negative")),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_audit_leaves")),
    )
    with op.batch_alter_table("audit_leaves", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_leaves_event_type_sequence", ["event_type", "sequence"], unique=False
        )
        batch_op.create_index(
            "ix_audit_leaves_subject_sequence", ["subject", "sequence"], unique=False
        )

    op.create_table(
        "audit_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_log_head_single_row")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_audit_log_head_size_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_head")),
    )
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint("length(hash) = 32", name=op.f("ck_audit_nodes_hash_size")),
        sa.CheckConstraint("level BETWEEN 1 AND 63", name=op.f("ck_audit_nodes_level_range")),
        sa.CheckConstraint("node_index >= 0", name=op.f("ck_audit_nodes_node_index_non_negative")),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_audit_nodes")),
    )
    op.create_table(
        "gateway_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("event_created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("processed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('processed','ignored','unknown_type','refused')",
            name=op.f("ck_gateway_events_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_gateway_events_event_id")),
    )
    with op.batch_alter_table("gateway_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_events_object_id"), ["object_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gateway_events_type"), ["type"], unique=False)

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("ref_type", sa.String(length=40), nullable=True),
        sa.Column("ref_id", sa.BigInteger(), nullable=True),
        sa.Column("gateway_ref", sa.String(length=200), nullable=True),
        sa.Column("reverses_entry_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(content_hash) = 64", name=op.f("ck_journal_entries_content_hash")
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_journal_entries_currency")),
        sa.CheckConstraint("length(kind) > 0", name=op.f("ck_journal_entries_kind")),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_journal_entries_idempotency_key")),
        sa.UniqueConstraint("reverses_entry_id", name=op.f("uq_journal_entries_reverses_entry_id")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_entries_gateway_ref"), ["gateway_ref"], unique=False
        )
        batch_op.create_index("ix_journal_entries_ref", ["ref_type", "ref_id"], unique=False)

    op.create_table(
        "outbox_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=5000), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_mail")),
    )
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_mail_unsent", ["sent_at"], unique=False)

    op.create_table(
        "testmode_events",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_testmode_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_testmode_events_event_id")),
    )
    op.create_table(
        "testmode_objects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testmode_objects")),
    )
    with op.batch_alter_table("testmode_objects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_testmode_objects_kind"), ["kind"], unique=False)

    op.create_table(
        "testmode_requests",
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_testmode_requests")),
    )
    op.create_table(
        "trust_score_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score_version", sa.String(length=32), nullable=False),
        sa.Column("ratings_revealed", sa.Integer(), nullable=False),
        sa.Column("members_scored", sa.Integer(), nullable=False),
        sa.Column("snapshots_written", sa.Integer(), nullable=False),
        sa.Column("grades_changed", sa.Integer(), nullable=False),
        sa.Column("network_members", sa.Integer(), nullable=False),
        sa.Column("eigentrust_iterations", sa.Integer(), nullable=False),
        sa.Column("eigentrust_converged", sa.Boolean(), nullable=False),
        sa.Column("inputs_through", sa.BigInteger(), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_score_runs")),
    )
    with op.batch_alter_table("trust_score_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_score_runs_as_of"), ["as_of"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("kyc_status", sa.String(length=16), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_enabled_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kyc_status IN ('unverified','pending','verified','rejected')",
            name=op.f("ck_users_kyc_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scope IN ('read','write')", name=op.f("ck_api_tokens_scope")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "crowdfunding_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiator_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("story_md", sa.Text(), nullable=False),
        sa.Column("story_html", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("goal_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=False),
        sa.Column("funding_model", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("platform_fee_bps", sa.Integer(), nullable=False),
        sa.Column("cover_filename", sa.String(length=80), nullable=True),
        sa.Column("loan_rate_bps", sa.Integer(), nullable=True),
        sa.Column("loan_term_months", sa.Integer(), nullable=True),
        sa.Column("owner_legal_name", sa.String(length=200), nullable=False),
        sa.Column("owner_registration", sa.String(length=80), nullable=False),
        sa.Column("risks_md", sa.Text(), nullable=False),
        sa.Column("loan_ref", sa.BigInteger(), nullable=True),
        sa.Column("launched_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('art','business','community','design','education','environment','film','food','games','health','music','publishing','technology')",
            name=op.f("ck_crowdfunding_campaigns_category"),
        ),
        sa.CheckConstraint(
            "funding_model IN ('all_or_nothing','keep_it_all')",
            name=op.f("ck_crowdfunding_campaigns_funding_model"),
        ),
        sa.CheckConstraint(
            "kind = 'reward' OR (loan_rate_bps BETWEEN 1 AND 3000 AND loan_term_months BETWEEN 1 AND 120 AND funding_model = 'all_or_nothing' AND currency = 'EUR')",
            name=op.f("ck_crowdfunding_campaigns_loan_terms"),
        ),
        sa.CheckConstraint(
            "kind IN ('reward','loan')", name=op.f("ck_crowdfunding_campaigns_kind")
        ),
        sa.CheckConstraint(
            "status IN ('draft','cancelled') OR launched_at IS NOT NULL",
            name=op.f("ck_crowdfunding_campaigns_launched"),
        ),
        sa.CheckConstraint(
            "status IN ('draft','live','collecting','succeeded','failed','cancelled')",
            name=op.f("ck_crowdfunding_campaigns_status"),
        ),
        sa.CheckConstraint(
            "(launched_at IS NULL) = (deadline_at IS NULL)",
            name=op.f("ck_crowdfunding_campaigns_deadline_set"),
        ),
        sa.CheckConstraint(
            "duration_days BETWEEN 1 AND 60", name=op.f("ck_crowdfunding_campaigns_duration_range")
        ),
        sa.CheckConstraint(
            "goal_minor BETWEEN 10000 AND 500000000",
            name=op.f("ck_crowdfunding_campaigns_goal_range"),
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_crowdfunding_campaigns_currency")),
        sa.CheckConstraint(
            "platform_fee_bps BETWEEN 0 AND 10000",
            name=op.f("ck_crowdfunding_campaigns_platform_fee_range"),
        ),
        sa.ForeignKeyConstraint(
            ["initiator_id"],
            ["users.id"],
            name=op.f("fk_crowdfunding_campaigns_initiator_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_campaigns")),
    )
    with op.batch_alter_table("crowdfunding_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_campaigns_initiator_id"), ["initiator_id"], unique=False
        )
        batch_op.create_index(
            "ix_crowdfunding_campaigns_status_deadline_at", ["status", "deadline_at"], unique=False
        )

    op.create_table(
        "crowdfunding_investor_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sophisticated", sa.Boolean(), nullable=False),
        sa.Column("sophisticated_set_by_id", sa.Integer(), nullable=True),
        sa.Column("knowledge_passed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("knowledge_score", sa.Integer(), nullable=True),
        sa.Column("yearly_net_income_minor", sa.BigInteger(), nullable=False),
        sa.Column("liquid_assets_minor", sa.BigInteger(), nullable=False),
        sa.Column("yearly_commitments_minor", sa.BigInteger(), nullable=False),
        sa.Column("simulated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "yearly_net_income_minor >= 0 AND liquid_assets_minor >= 0 AND yearly_commitments_minor >= 0",
            name=op.f("ck_crowdfunding_investor_profiles_declared_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["sophisticated_set_by_id"],
            ["users.id"],
            name=op.f("fk_crowdfunding_investor_profiles_sophisticated_set_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_crowdfunding_investor_profiles_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_investor_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_crowdfunding_investor_profiles_user_id")),
    )
    op.create_table(
        "crowdfunding_knowledge_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("taken_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_crowdfunding_knowledge_attempts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_knowledge_attempts")),
    )
    with op.batch_alter_table("crowdfunding_knowledge_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_knowledge_attempts_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "kyc_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_kyc_changes_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_kyc_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_changes")),
    )
    with op.batch_alter_table("kyc_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kyc_changes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=120), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("no_negative", sa.Boolean(), nullable=False),
        sa.Column("posted_minor", sa.BigInteger(), nullable=False),
        sa.Column("held_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "type IN ('asset','liability','income','expense','equity')",
            name=op.f("ck_ledger_accounts_type"),
        ),
        sa.CheckConstraint(
            "NOT no_negative OR (posted_minor >= 0 AND posted_minor - held_minor >= 0)",
            name=op.f("ck_ledger_accounts_no_negative_balance"),
        ),
        sa.CheckConstraint("held_minor >= 0", name=op.f("ck_ledger_accounts_held_non_negative")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_ledger_accounts_currency")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_ledger_accounts_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_ledger_accounts_code")),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_accounts_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "loan_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("funded_minor", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("max_rate_bps", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("purpose_category", sa.String(length=32), nullable=False),
        sa.Column("purpose_text", sa.String(length=500), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("grade_reasons_json", sa.Text(), nullable=False),
        sa.Column("grade_rule_version", sa.String(length=40), nullable=False),
        sa.Column("origination_fee_bps", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("listed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accept_by", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("grade IN ('A','B','C','D','E')", name=op.f("ck_loan_requests_grade")),
        sa.CheckConstraint(
            "method IN ('annuity','equal_principal')", name=op.f("ck_loan_requests_method")
        ),
        sa.CheckConstraint(
            "status IN ('listed','awaiting_acceptance','funded','expired','cancelled')",
            name=op.f("ck_loan_requests_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_loan_requests_amount_positive")),
        sa.CheckConstraint(
            "funded_minor >= 0 AND funded_minor <= amount_minor",
            name=op.f("ck_loan_requests_funded"),
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_loan_requests_currency")),
        sa.CheckConstraint(
            "max_rate_bps BETWEEN 0 AND 10000", name=op.f("ck_loan_requests_max_rate")
        ),
        sa.CheckConstraint(
            "origination_fee_bps BETWEEN 0 AND 10000", name=op.f("ck_loan_requests_fee")
        ),
        sa.CheckConstraint("term_months BETWEEN 1 AND 600", name=op.f("ck_loan_requests_term")),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["users.id"], name=op.f("fk_loan_requests_borrower_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_requests")),
        sa.UniqueConstraint(
            "borrower_id",
            "idempotency_key",
            name=op.f("uq_loan_requests_borrower_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("loan_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loan_requests_borrower_id"), ["borrower_id"], unique=False
        )
        batch_op.create_index(
            "ix_loan_requests_status_listed_at", ["status", "listed_at"], unique=False
        )

    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_reset_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_reset_tokens_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=240), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=True),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=True),
        sa.Column("fee_entry_id", sa.Integer(), nullable=True),
        sa.Column("failure_code", sa.String(length=80), nullable=True),
        sa.Column("failure_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("succeeded_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'succeeded') = (ledger_entry_id IS NOT NULL)",
            name=op.f("ck_payments_credited_iff_succeeded"),
        ),
        sa.CheckConstraint("purpose IN ('deposit')", name=op.f("ck_payments_purpose")),
        sa.CheckConstraint(
            "status IN ('pending','needs_action','failed','succeeded','canceled')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "fee_minor IS NULL OR fee_minor >= 0", name=op.f("ck_payments_fee_non_negative")
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_payments_currency")),
        sa.ForeignKeyConstraint(
            ["fee_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payments_fee_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payments_ledger_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("gateway_payment_id", name=op.f("uq_payments_gateway_payment_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_user_id_id", ["user_id", "id"], unique=False)

    op.create_table(
        "payout_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("gateway_account_id", sa.String(length=255), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("bank_last4", sa.String(length=4), nullable=True),
        sa.Column("last_bank_payout_status", sa.String(length=32), nullable=True),
        sa.Column("last_bank_payout_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_payout_accounts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_accounts")),
        sa.UniqueConstraint(
            "gateway_account_id", name=op.f("uq_payout_accounts_gateway_account_id")
        ),
        sa.UniqueConstraint("user_id", name=op.f("uq_payout_accounts_user_id")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('grant','revoke')", name=op.f("ck_role_grants_action")),
        sa.ForeignKeyConstraint(
            ["granted_by_id"], ["users.id"], name=op.f("fk_role_grants_granted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grants")),
    )
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "trust_repayment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("days_late", sa.Integer(), nullable=False),
        sa.Column("occurred_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("instalment_number", sa.Integer(), nullable=True),
        sa.Column("event_key", sa.String(length=160), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('on_time','late','default','cured','recovered')",
            name=op.f("ck_trust_repayment_events_kind"),
        ),
        sa.CheckConstraint("days_late >= 0", name=op.f("ck_trust_repayment_events_days_late")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_trust_repayment_events_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_repayment_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_trust_repayment_events_event_key")),
    )
    with op.batch_alter_table("trust_repayment_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_trust_repayment_events_user", ["user_id", "occurred_at"], unique=False
        )

    op.create_table(
        "trust_score_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("as_of", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("score_version", sa.String(length=32), nullable=False),
        sa.Column("feedback_score", sa.Integer(), nullable=False),
        sa.Column("star_tier", sa.String(length=16), nullable=False),
        sa.Column("positives", sa.Integer(), nullable=False),
        sa.Column("neutrals", sa.Integer(), nullable=False),
        sa.Column("negatives", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("percent_positive_bps", sa.Integer(), nullable=True),
        sa.Column("effective_percent_positive_bps", sa.Integer(), nullable=True),
        sa.Column("repayment_expectation_bps", sa.Integer(), nullable=False),
        sa.Column("trust_percentile_bps", sa.Integer(), nullable=False),
        sa.Column("history_months", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("grade_points_bps", sa.Integer(), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("log_sequence", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "grade IN ('A','B','C','D','E')", name=op.f("ck_trust_score_snapshots_grade")
        ),
        sa.CheckConstraint(
            "effective_percent_positive_bps IS NULL OR effective_percent_positive_bps BETWEEN 0 AND 10000",
            name=op.f("ck_trust_score_snapshots_effective_percent_positive_bps"),
        ),
        sa.CheckConstraint(
            "percent_positive_bps IS NULL OR percent_positive_bps BETWEEN 0 AND 10000",
            name=op.f("ck_trust_score_snapshots_percent_positive_bps"),
        ),
        sa.CheckConstraint(
            "repayment_expectation_bps BETWEEN 0 AND 10000",
            name=op.f("ck_trust_score_snapshots_repayment_expectation_bps"),
        ),
        sa.CheckConstraint(
            "trust_percentile_bps BETWEEN 0 AND 10000",
            name=op.f("ck_trust_score_snapshots_trust_percentile_bps"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["trust_score_runs.id"],
            name=op.f("fk_trust_score_snapshots_run_id_trust_score_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_trust_score_snapshots_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_score_snapshots")),
    )
    with op.batch_alter_table("trust_score_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trust_score_snapshots_run_id"), ["run_id"], unique=False
        )
        batch_op.create_index("ix_trust_score_snapshots_user", ["user_id", "id"], unique=False)

    op.create_table(
        "trust_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref_type", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.BigInteger(), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("counterparty_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_closes_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ref_type IN ('loan','campaign')", name=op.f("ck_trust_transactions_ref_type")
        ),
        sa.CheckConstraint(
            "principal_id <> counterparty_id", name=op.f("ck_trust_transactions_two_people")
        ),
        sa.CheckConstraint(
            "window_closes_at > completed_at", name=op.f("ck_trust_transactions_window")
        ),
        sa.ForeignKeyConstraint(
            ["counterparty_id"],
            ["users.id"],
            name=op.f("fk_trust_transactions_counterparty_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["principal_id"], ["users.id"], name=op.f("fk_trust_transactions_principal_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_transactions")),
        sa.UniqueConstraint(
            "ref_type",
            "ref_id",
            "principal_id",
            "counterparty_id",
            name=op.f("uq_trust_transactions_ref_type_ref_id_principal_id_counterparty_id"),
        ),
    )
    with op.batch_alter_table("trust_transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_trust_transactions_counterparty", ["counterparty_id", "completed_at"], unique=False
        )
        batch_op.create_index(
            "ix_trust_transactions_principal", ["principal_id", "completed_at"], unique=False
        )

    op.create_table(
        "user_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_roles")),
        sa.UniqueConstraint("user_id", "role", name=op.f("uq_user_roles_user_id_role")),
    )
    op.create_table(
        "crowdfunding_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("by_initiator", sa.Boolean(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_crowdfunding_comments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_comments_campaign_id_crowdfunding_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["crowdfunding_comments.id"],
            name=op.f("fk_crowdfunding_comments_parent_id_crowdfunding_comments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_comments")),
    )
    with op.batch_alter_table("crowdfunding_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_comments_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "crowdfunding_payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("collected_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_bps", sa.Integer(), nullable=False),
        sa.Column("platform_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("processing_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("absorbed_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("entry_ref", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "collected_minor = gross_minor + refunded_minor",
            name=op.f("ck_crowdfunding_payouts_collected"),
        ),
        sa.CheckConstraint(
            "gross_minor = platform_fee_minor + processing_fee_minor + net_minor",
            name=op.f("ck_crowdfunding_payouts_parts_add_up"),
        ),
        sa.CheckConstraint(
            "gross_minor >= 0 AND platform_fee_minor >= 0 AND processing_fee_minor >= 0 AND net_minor >= 0 AND absorbed_minor >= 0 AND refunded_minor >= 0",
            name=op.f("ck_crowdfunding_payouts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_payouts_campaign_id_crowdfunding_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_payouts")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_crowdfunding_payouts_campaign_id")),
    )
    op.create_table(
        "crowdfunding_reward_tiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("min_pledge_minor", sa.BigInteger(), nullable=False),
        sa.Column("quantity_limit", sa.Integer(), nullable=True),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("delivery_month", sa.Date(), nullable=True),
        sa.Column("shipped_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "claimed >= 0 AND (quantity_limit IS NULL OR claimed <= quantity_limit)",
            name=op.f("ck_crowdfunding_reward_tiers_claimed_within_limit"),
        ),
        sa.CheckConstraint(
            "min_pledge_minor > 0", name=op.f("ck_crowdfunding_reward_tiers_min_pledge_positive")
        ),
        sa.CheckConstraint(
            "quantity_limit IS NULL OR quantity_limit > 0",
            name=op.f("ck_crowdfunding_reward_tiers_limit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_reward_tiers_campaign_id_crowdfunding_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_reward_tiers")),
    )
    with op.batch_alter_table("crowdfunding_reward_tiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_reward_tiers_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "crowdfunding_stretch_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_minor > 0", name=op.f("ck_crowdfunding_stretch_goals_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_stretch_goals_campaign_id_crowdfunding_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_stretch_goals")),
        sa.UniqueConstraint(
            "campaign_id",
            "amount_minor",
            name=op.f("uq_crowdfunding_stretch_goals_campaign_id_amount_minor"),
        ),
    )
    with op.batch_alter_table("crowdfunding_stretch_goals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_stretch_goals_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "crowdfunding_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=8), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "visibility IN ('public','backers')", name=op.f("ck_crowdfunding_updates_visibility")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_crowdfunding_updates_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_updates_campaign_id_crowdfunding_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_updates")),
    )
    with op.batch_alter_table("crowdfunding_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_updates_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "ledger_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("resolution_key", sa.String(length=200), nullable=True),
        sa.Column("expires_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ref_type", sa.String(length=40), nullable=True),
        sa.Column("ref_id", sa.BigInteger(), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("captured_minor", sa.BigInteger(), nullable=True),
        sa.Column("capture_entry_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'captured') = (capture_entry_id IS NOT NULL)",
            name=op.f("ck_ledger_holds_capture_entry"),
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (resolved_at IS NULL)", name=op.f("ck_ledger_holds_resolved_at")
        ),
        sa.CheckConstraint(
            "status IN ('pending','captured','released','expired')",
            name=op.f("ck_ledger_holds_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_ledger_holds_amount_positive")),
        sa.CheckConstraint(
            "captured_minor IS NULL OR (captured_minor > 0 AND captured_minor <= amount_minor)",
            name=op.f("ck_ledger_holds_captured_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_holds_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["capture_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_ledger_holds_capture_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_holds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_holds_idempotency_key")),
        sa.UniqueConstraint("resolution_key", name=op.f("uq_ledger_holds_resolution_key")),
    )
    with op.batch_alter_table("ledger_holds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_holds_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_holds_status_expires_at", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_minor", sa.BigInteger(), nullable=False),
        sa.Column("written_off_minor", sa.BigInteger(), nullable=False),
        sa.Column("recovered_minor", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("apr_bps", sa.Integer(), nullable=False),
        sa.Column("instalment_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("funding_entry_id", sa.Integer(), nullable=True),
        sa.Column("write_off_entry_id", sa.Integer(), nullable=True),
        sa.Column("ever_late", sa.Boolean(), nullable=False),
        sa.Column("defaulted_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("method IN ('annuity','equal_principal')", name=op.f("ck_loans_method")),
        sa.CheckConstraint(
            "status IN ('active','late','repaid','defaulted')", name=op.f("ck_loans_status")
        ),
        sa.CheckConstraint(
            "fee_minor >= 0 AND fee_minor < principal_minor", name=op.f("ck_loans_fee")
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_loans_currency")),
        sa.CheckConstraint(
            "outstanding_minor >= 0 AND outstanding_minor <= principal_minor",
            name=op.f("ck_loans_outstanding"),
        ),
        sa.CheckConstraint("principal_minor > 0", name=op.f("ck_loans_principal_positive")),
        sa.CheckConstraint(
            "recovered_minor >= 0 AND recovered_minor <= written_off_minor",
            name=op.f("ck_loans_recovered"),
        ),
        sa.CheckConstraint("written_off_minor >= 0", name=op.f("ck_loans_written_off")),
        sa.ForeignKeyConstraint(
            ["borrower_id"], ["users.id"], name=op.f("fk_loans_borrower_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["funding_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_loans_funding_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["loan_requests.id"], name=op.f("fk_loans_request_id_loan_requests")
        ),
        sa.ForeignKeyConstraint(
            ["write_off_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_loans_write_off_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("request_id", name=op.f("uq_loans_request_id")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_borrower_id"), ["borrower_id"], unique=False)
        batch_op.create_index("ix_loans_status", ["status"], unique=False)

    op.create_table(
        "postings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_postings_amount_non_zero")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_postings_currency")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_postings_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_postings_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index("ix_postings_account_id_id", ["account_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_postings_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "trust_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("ratee_id", sa.Integer(), nullable=False),
        sa.Column("ratee_side", sa.String(length=16), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("communication_stars", sa.SmallInteger(), nullable=True),
        sa.Column("kept_schedule_stars", sa.SmallInteger(), nullable=True),
        sa.Column("as_described_stars", sa.SmallInteger(), nullable=True),
        sa.Column("delivered_on_time_stars", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reveal_due_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revealed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revised_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("value_before_revision", sa.SmallInteger(), nullable=True),
        sa.Column("hidden_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("hidden_reason", sa.String(length=32), nullable=True),
        sa.Column("hidden_note", sa.String(length=500), nullable=False),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "hidden_reason IS NULL OR hidden_reason IN ('personal_data','abusive','off_topic','fraud','legal')",
            name=op.f("ck_trust_ratings_hidden_reason"),
        ),
        sa.CheckConstraint(
            "ratee_side IN ('borrower','lender','initiator','backer')",
            name=op.f("ck_trust_ratings_ratee_side"),
        ),
        sa.CheckConstraint(
            "status = 'revealed' OR revealed_at IS NULL", name=op.f("ck_trust_ratings_revealed_at")
        ),
        sa.CheckConstraint("status IN ('sealed','revealed')", name=op.f("ck_trust_ratings_status")),
        sa.CheckConstraint(
            "(hidden_at IS NULL) = (hidden_reason IS NULL)",
            name=op.f("ck_trust_ratings_hidden_with_reason"),
        ),
        sa.CheckConstraint(
            "as_described_stars IS NULL OR as_described_stars BETWEEN 1 AND 5",
            name=op.f("ck_trust_ratings_as_described_stars"),
        ),
        sa.CheckConstraint(
            "communication_stars IS NULL OR communication_stars BETWEEN 1 AND 5",
            name=op.f("ck_trust_ratings_communication_stars"),
        ),
        sa.CheckConstraint(
            "delivered_on_time_stars IS NULL OR delivered_on_time_stars BETWEEN 1 AND 5",
            name=op.f("ck_trust_ratings_delivered_on_time_stars"),
        ),
        sa.CheckConstraint(
            "kept_schedule_stars IS NULL OR kept_schedule_stars BETWEEN 1 AND 5",
            name=op.f("ck_trust_ratings_kept_schedule_stars"),
        ),
        sa.CheckConstraint("length(comment) <= 500", name=op.f("ck_trust_ratings_comment_length")),
        sa.CheckConstraint("rater_id <> ratee_id", name=op.f("ck_trust_ratings_not_oneself")),
        sa.CheckConstraint("value BETWEEN -1 AND 1", name=op.f("ck_trust_ratings_value")),
        sa.CheckConstraint(
            "value_before_revision IS NULL OR value >= value_before_revision",
            name=op.f("ck_trust_ratings_upward_only"),
        ),
        sa.ForeignKeyConstraint(
            ["hidden_by_id"], ["users.id"], name=op.f("fk_trust_ratings_hidden_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ratee_id"], ["users.id"], name=op.f("fk_trust_ratings_ratee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["users.id"], name=op.f("fk_trust_ratings_rater_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["trust_transactions.id"],
            name=op.f("fk_trust_ratings_transaction_id_trust_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_ratings")),
        sa.UniqueConstraint(
            "transaction_id", "rater_id", name=op.f("uq_trust_ratings_transaction_id_rater_id")
        ),
    )
    with op.batch_alter_table("trust_ratings", schema=None) as batch_op:
        batch_op.create_index("ix_trust_ratings_ratee", ["ratee_id", "submitted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_trust_ratings_rater_id"), ["rater_id"], unique=False)
        batch_op.create_index(
            "ix_trust_ratings_sealed_due", ["status", "reveal_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trust_ratings_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "crowdfunding_pledges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("backer_id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hold_ref", sa.BigInteger(), nullable=True),
        sa.Column("customer_ref", sa.String(length=120), nullable=True),
        sa.Column("setup_ref", sa.String(length=120), nullable=True),
        sa.Column("setup_client_secret", sa.String(length=300), nullable=True),
        sa.Column("setup_expires_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("saved_card_ref", sa.String(length=120), nullable=True),
        sa.Column("charge_attempts", sa.Integer(), nullable=False),
        sa.Column("charge_ref", sa.String(length=200), nullable=True),
        sa.Column("processing_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("error_message", sa.String(length=300), nullable=False),
        sa.Column("errored_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fix_until", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("collected_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=40), nullable=False),
        sa.Column("card_detached_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refund_ref", sa.String(length=200), nullable=True),
        sa.Column("revocable_until", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("large_ack_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery_status", sa.String(length=16), nullable=True),
        sa.Column("delivery_note", sa.String(length=1000), nullable=False),
        sa.Column("delivery_answered_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("loan_part_ref", sa.BigInteger(), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'errored') = (fix_until IS NOT NULL)",
            name=op.f("ck_crowdfunding_pledges_fix_window"),
        ),
        sa.CheckConstraint(
            "method = 'card' OR (saved_card_ref IS NULL AND setup_ref IS NULL)",
            name=op.f("ck_crowdfunding_pledges_card_only_for_card"),
        ),
        sa.CheckConstraint(
            "method = 'wallet' OR hold_ref IS NULL",
            name=op.f("ck_crowdfunding_pledges_hold_only_for_wallet"),
        ),
        sa.CheckConstraint(
            "method IN ('wallet','card')", name=op.f("ck_crowdfunding_pledges_method")
        ),
        sa.CheckConstraint(
            "status <> 'pending' OR method = 'wallet' OR saved_card_ref IS NOT NULL",
            name=op.f("ck_crowdfunding_pledges_pending_card_is_saved"),
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_card','pending','collected','errored','released','dropped','refunded','revoked')",
            name=op.f("ck_crowdfunding_pledges_status"),
        ),
        sa.CheckConstraint(
            "amount_minor > 0", name=op.f("ck_crowdfunding_pledges_amount_positive")
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_crowdfunding_pledges_currency")),
        sa.CheckConstraint(
            "processing_fee_minor <= amount_minor",
            name=op.f("ck_crowdfunding_pledges_processing_fee_bounded"),
        ),
        sa.CheckConstraint(
            "processing_fee_minor >= 0",
            name=op.f("ck_crowdfunding_pledges_processing_fee_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["backer_id"], ["users.id"], name=op.f("fk_crowdfunding_pledges_backer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_pledges_campaign_id_crowdfunding_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["crowdfunding_reward_tiers.id"],
            name=op.f("fk_crowdfunding_pledges_tier_id_crowdfunding_reward_tiers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_pledges")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_crowdfunding_pledges_idempotency_key")
        ),
    )
    with op.batch_alter_table("crowdfunding_pledges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_pledges_backer_id"), ["backer_id"], unique=False
        )
        batch_op.create_index(
            "ix_crowdfunding_pledges_campaign_id_status", ["campaign_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_crowdfunding_pledges_open",
            ["campaign_id", "backer_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('awaiting_card','pending')"),
            postgresql_where=sa.text("status IN ('awaiting_card','pending')"),
        )

    op.create_table(
        "lender_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("remaining_minor", sa.BigInteger(), nullable=False),
        sa.Column("slice_minor", sa.BigInteger(), nullable=False),
        sa.Column("max_per_borrower_minor", sa.BigInteger(), nullable=False),
        sa.Column("min_term_months", sa.Integer(), nullable=False),
        sa.Column("max_term_months", sa.Integer(), nullable=False),
        sa.Column("rate_a_bps", sa.Integer(), nullable=True),
        sa.Column("rate_b_bps", sa.Integer(), nullable=True),
        sa.Column("rate_c_bps", sa.Integer(), nullable=True),
        sa.Column("rate_d_bps", sa.Integer(), nullable=True),
        sa.Column("rate_e_bps", sa.Integer(), nullable=True),
        sa.Column("reinvest", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("hold_seq", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("placed_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status <> 'cancelled' OR remaining_minor = 0",
            name=op.f("ck_lender_orders_cancelled_empty"),
        ),
        sa.CheckConstraint(
            "status IN ('active','used_up','cancelled')", name=op.f("ck_lender_orders_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_lender_orders_amount_positive")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_lender_orders_currency")),
        sa.CheckConstraint(
            "max_per_borrower_minor >= slice_minor",
            name=op.f("ck_lender_orders_cap_at_least_a_slice"),
        ),
        sa.CheckConstraint(
            "min_term_months <= max_term_months", name=op.f("ck_lender_orders_terms")
        ),
        sa.CheckConstraint(
            "rate_a_bps IS NULL OR rate_a_bps BETWEEN 0 AND 10000",
            name=op.f("ck_lender_orders_rate_a"),
        ),
        sa.CheckConstraint(
            "rate_b_bps IS NULL OR rate_b_bps BETWEEN 0 AND 10000",
            name=op.f("ck_lender_orders_rate_b"),
        ),
        sa.CheckConstraint(
            "rate_c_bps IS NULL OR rate_c_bps BETWEEN 0 AND 10000",
            name=op.f("ck_lender_orders_rate_c"),
        ),
        sa.CheckConstraint(
            "rate_d_bps IS NULL OR rate_d_bps BETWEEN 0 AND 10000",
            name=op.f("ck_lender_orders_rate_d"),
        ),
        sa.CheckConstraint(
            "rate_e_bps IS NULL OR rate_e_bps BETWEEN 0 AND 10000",
            name=op.f("ck_lender_orders_rate_e"),
        ),
        sa.CheckConstraint(
            "remaining_minor >= 0", name=op.f("ck_lender_orders_remaining_non_negative")
        ),
        sa.CheckConstraint("slice_minor >= 2500", name=op.f("ck_lender_orders_slice_min")),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_lender_orders_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["users.id"], name=op.f("fk_lender_orders_lender_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lender_orders")),
        sa.UniqueConstraint(
            "lender_id", "idempotency_key", name=op.f("uq_lender_orders_lender_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("lender_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lender_orders_lender_id"), ["lender_id"], unique=False)
        batch_op.create_index(
            "ix_lender_orders_status_placed_at", ["status", "placed_at"], unique=False
        )

    op.create_table(
        "lending_repayment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("instalment_number", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("days_late", sa.Integer(), nullable=False),
        sa.Column("occurred_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.CheckConstraint(
            "kind IN ('on_time','late','default','cured','recovered')",
            name=op.f("ck_lending_repayment_events_kind"),
        ),
        sa.CheckConstraint("days_late >= 0", name=op.f("ck_lending_repayment_events_days_late")),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["users.id"],
            name=op.f("fk_lending_repayment_events_borrower_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_lending_repayment_events_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lending_repayment_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_lending_repayment_events_event_key")),
    )
    with op.batch_alter_table("lending_repayment_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lending_repayment_events_borrower", ["borrower_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lending_repayment_events_loan_id"), ["loan_id"], unique=False
        )

    op.create_table(
        "loan_instalments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("late_fee_charged_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('scheduled','paid','cancelled')", name=op.f("ck_loan_instalments_status")
        ),
        sa.CheckConstraint("late_fee_minor >= 0", name=op.f("ck_loan_instalments_late_fee")),
        sa.CheckConstraint(
            "principal_minor >= 0 AND interest_minor >= 0", name=op.f("ck_loan_instalments_due")
        ),
        sa.CheckConstraint(
            "principal_paid_minor BETWEEN 0 AND principal_minor AND interest_paid_minor BETWEEN 0 AND interest_minor AND late_fee_paid_minor BETWEEN 0 AND late_fee_minor",
            name=op.f("ck_loan_instalments_paid_within_due"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_instalments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_instalments")),
        sa.UniqueConstraint("loan_id", "number", name=op.f("uq_loan_instalments_loan_id_number")),
    )
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loan_instalments_status_due_on", ["status", "due_on"], unique=False
        )

    op.create_table(
        "loan_repayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("recovery_minor", sa.BigInteger(), nullable=False),
        sa.Column("servicing_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('scheduled','pay_now','early','recovery')",
            name=op.f("ck_loan_repayments_kind"),
        ),
        sa.CheckConstraint(
            "amount_minor = principal_minor + interest_minor + late_fee_minor + recovery_minor",
            name=op.f("ck_loan_repayments_adds_up"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_loan_repayments_amount_positive")),
        sa.CheckConstraint(
            "principal_minor >= 0 AND interest_minor >= 0 AND late_fee_minor >= 0 AND recovery_minor >= 0 AND servicing_fee_minor >= 0",
            name=op.f("ck_loan_repayments_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_loan_repayments_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_repayments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_repayments")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_loan_repayments_entry_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_loan_repayments_idempotency_key")),
    )
    with op.batch_alter_table("loan_repayments", schema=None) as batch_op:
        batch_op.create_index("ix_loan_repayments_loan", ["loan_id", "id"], unique=False)

    op.create_table(
        "payment_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gateway_refund_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=240), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested','succeeded','failed')", name=op.f("ck_payment_refunds_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payment_refunds_amount_positive")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_payment_refunds_currency")),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_payment_refunds_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payment_refunds_ledger_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_payment_refunds_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refunds")),
        sa.UniqueConstraint("gateway_refund_id", name=op.f("uq_payment_refunds_gateway_refund_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_refunds_idempotency_key")),
    )
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_refunds_payment_id"), ["payment_id"], unique=False
        )

    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("payout_account_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("gateway_transfer_id", sa.String(length=255), nullable=True),
        sa.Column("idempotency_key", sa.String(length=240), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=True),
        sa.Column("reversal_entry_id", sa.Integer(), nullable=True),
        sa.Column("failure_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested','paid','failed','reversed')", name=op.f("ck_payouts_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payouts_amount_positive")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_payouts_currency")),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_payouts_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payouts_ledger_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_account_id"],
            ["payout_accounts.id"],
            name=op.f("fk_payouts_payout_account_id_payout_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["reversal_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payouts_reversal_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payouts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("gateway_transfer_id", name=op.f("uq_payouts_gateway_transfer_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payouts_idempotency_key")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index("ix_payouts_user_id_id", ["user_id", "id"], unique=False)

    op.create_table(
        "trust_revision_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open','revised')", name=op.f("ck_trust_revision_requests_status")
        ),
        sa.CheckConstraint(
            "length(note) <= 500", name=op.f("ck_trust_revision_requests_note_length")
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["trust_ratings.id"],
            name=op.f("fk_trust_revision_requests_rating_id_trust_ratings"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_trust_revision_requests_requested_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_revision_requests")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_trust_revision_requests_rating_id")),
    )
    op.create_table(
        "crowdfunding_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("pledge_id", sa.Integer(), nullable=True),
        sa.Column("tier_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("dedup_key", sa.String(length=120), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('campaign_launched','campaign_succeeded','campaign_failed','campaign_cancelled','campaign_paid_out','pledge_collected','pledge_dropped','pledge_refunded','pledge_revoked','reward_shipped','reward_received','reward_problem','delivery_overdue')",
            name=op.f("ck_crowdfunding_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_crowdfunding_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_events_campaign_id_crowdfunding_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["crowdfunding_pledges.id"],
            name=op.f("fk_crowdfunding_events_pledge_id_crowdfunding_pledges"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["users.id"], name=op.f("fk_crowdfunding_events_subject_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["crowdfunding_reward_tiers.id"],
            name=op.f("fk_crowdfunding_events_tier_id_crowdfunding_reward_tiers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_events")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_crowdfunding_events_dedup_key")),
    )
    with op.batch_alter_table("crowdfunding_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_events_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            "ix_crowdfunding_events_subject_id_kind", ["subject_id", "kind"], unique=False
        )

    op.create_table(
        "crowdfunding_pledge_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("pledge_id", sa.Integer(), nullable=False),
        sa.Column("delta_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "delta_minor <> 0", name=op.f("ck_crowdfunding_pledge_changes_delta_non_zero")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["crowdfunding_campaigns.id"],
            name=op.f("fk_crowdfunding_pledge_changes_campaign_id_crowdfunding_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["pledge_id"],
            ["crowdfunding_pledges.id"],
            name=op.f("fk_crowdfunding_pledge_changes_pledge_id_crowdfunding_pledges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowdfunding_pledge_changes")),
    )
    with op.batch_alter_table("crowdfunding_pledge_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crowdfunding_pledge_changes_campaign_id_created_at",
            ["campaign_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_crowdfunding_pledge_changes_pledge_id"), ["pledge_id"], unique=False
        )

    op.create_table(
        "loan_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("filled_minor", sa.BigInteger(), nullable=False),
        sa.Column("funded_after_minor", sa.BigInteger(), nullable=False),
        sa.Column("explanation_json", sa.Text(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "trigger IN ('listing_placed','order_placed','manual_commit','rematch')",
            name=op.f("ck_loan_matches_trigger"),
        ),
        sa.CheckConstraint("filled_minor >= 0", name=op.f("ck_loan_matches_filled")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["lender_orders.id"], name=op.f("fk_loan_matches_order_id_lender_orders")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["loan_requests.id"],
            name=op.f("fk_loan_matches_request_id_loan_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_matches")),
    )
    with op.batch_alter_table("loan_matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_matches_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_loan_matches_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "loan_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('held','issued','released')", name=op.f("ck_loan_commitments_status")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_loan_commitments_amount_positive")),
        sa.CheckConstraint("rate_bps BETWEEN 0 AND 10000", name=op.f("ck_loan_commitments_rate")),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["ledger_holds.id"], name=op.f("fk_loan_commitments_hold_id_ledger_holds")
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["users.id"], name=op.f("fk_loan_commitments_lender_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["loan_matches.id"],
            name=op.f("fk_loan_commitments_match_id_loan_matches"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["lender_orders.id"],
            name=op.f("fk_loan_commitments_order_id_lender_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["loan_requests.id"],
            name=op.f("fk_loan_commitments_request_id_loan_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_commitments")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_loan_commitments_hold_id")),
        sa.UniqueConstraint(
            "lender_id",
            "idempotency_key",
            name=op.f("uq_loan_commitments_lender_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("loan_commitments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loan_commitments_lender_status", ["lender_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loan_commitments_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loan_commitments_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "loan_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("outstanding_minor", sa.BigInteger(), nullable=False),
        sa.Column("written_off_minor", sa.BigInteger(), nullable=False),
        sa.Column("recovered_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "outstanding_minor >= 0 AND outstanding_minor <= principal_minor",
            name=op.f("ck_loan_parts_outstanding"),
        ),
        sa.CheckConstraint("principal_minor > 0", name=op.f("ck_loan_parts_principal_positive")),
        sa.CheckConstraint("rate_bps BETWEEN 0 AND 10000", name=op.f("ck_loan_parts_rate")),
        sa.CheckConstraint("recovered_minor >= 0", name=op.f("ck_loan_parts_recovered")),
        sa.CheckConstraint("written_off_minor >= 0", name=op.f("ck_loan_parts_written_off")),
        sa.ForeignKeyConstraint(
            ["commitment_id"],
            ["loan_commitments.id"],
            name=op.f("fk_loan_parts_commitment_id_loan_commitments"),
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["users.id"], name=op.f("fk_loan_parts_lender_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_parts_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["lender_orders.id"], name=op.f("fk_loan_parts_order_id_lender_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_parts")),
        sa.UniqueConstraint("commitment_id", name=op.f("uq_loan_parts_commitment_id")),
    )
    with op.batch_alter_table("loan_parts", schema=None) as batch_op:
        batch_op.create_index("ix_loan_parts_lender", ["lender_id", "loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loan_parts_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "loan_instalment_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_paid_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "principal_paid_minor BETWEEN 0 AND principal_minor AND interest_paid_minor BETWEEN 0 AND interest_minor AND late_fee_paid_minor BETWEEN 0 AND late_fee_minor",
            name=op.f("ck_loan_instalment_parts_paid_within_due"),
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["loan_instalments.id"],
            name=op.f("fk_loan_instalment_parts_instalment_id_loan_instalments"),
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["loan_parts.id"], name=op.f("fk_loan_instalment_parts_part_id_loan_parts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_instalment_parts")),
        sa.UniqueConstraint(
            "instalment_id", "part_id", name=op.f("uq_loan_instalment_parts_instalment_id_part_id")
        ),
    )
    with op.batch_alter_table("loan_instalment_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loan_instalment_parts_instalment_id"), ["instalment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loan_instalment_parts_part_id"), ["part_id"], unique=False
        )

    op.create_table(
        "loan_repayment_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repayment_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("late_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("recovery_minor", sa.BigInteger(), nullable=False),
        sa.Column("servicing_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "principal_minor >= 0 AND interest_minor >= 0 AND late_fee_minor >= 0 AND recovery_minor >= 0 AND servicing_fee_minor >= 0",
            name=op.f("ck_loan_repayment_shares_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["users.id"], name=op.f("fk_loan_repayment_shares_lender_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["loan_parts.id"], name=op.f("fk_loan_repayment_shares_part_id_loan_parts")
        ),
        sa.ForeignKeyConstraint(
            ["repayment_id"],
            ["loan_repayments.id"],
            name=op.f("fk_loan_repayment_shares_repayment_id_loan_repayments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_repayment_shares")),
        sa.UniqueConstraint(
            "repayment_id", "part_id", name=op.f("uq_loan_repayment_shares_repayment_id_part_id")
        ),
    )
    with op.batch_alter_table("loan_repayment_shares", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loan_repayment_shares_lender", ["lender_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_loan_repayment_shares_part_id"), ["part_id"], unique=False
        )

    op.create_table(
        "loan_write_offs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("part_id", sa.Integer(), nullable=False),
        sa.Column("lender_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("created_at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_loan_write_offs_amount_positive")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_loan_write_offs_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["lender_id"], ["users.id"], name=op.f("fk_loan_write_offs_lender_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_write_offs_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["loan_parts.id"], name=op.f("fk_loan_write_offs_part_id_loan_parts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_write_offs")),
        sa.UniqueConstraint("part_id", name=op.f("uq_loan_write_offs_part_id")),
    )
    with op.batch_alter_table("loan_write_offs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loan_write_offs_lender_id"), ["lender_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_loan_write_offs_loan_id"), ["loan_id"], unique=False)

    # ### end Alembic commands ###
    if op.get_bind().dialect.name == "postgresql":
        for create_sql, _drop_sql in POSTGRES_DDL:
            op.execute(create_sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for _create_sql, drop_sql in reversed(POSTGRES_DDL):
            op.execute(drop_sql)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("loan_write_offs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_write_offs_loan_id"))
        batch_op.drop_index(batch_op.f("ix_loan_write_offs_lender_id"))

    op.drop_table("loan_write_offs")
    with op.batch_alter_table("loan_repayment_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_repayment_shares_part_id"))
        batch_op.drop_index("ix_loan_repayment_shares_lender")

    op.drop_table("loan_repayment_shares")
    with op.batch_alter_table("loan_instalment_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_instalment_parts_part_id"))
        batch_op.drop_index(batch_op.f("ix_loan_instalment_parts_instalment_id"))

    op.drop_table("loan_instalment_parts")
    with op.batch_alter_table("loan_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_parts_loan_id"))
        batch_op.drop_index("ix_loan_parts_lender")

    op.drop_table("loan_parts")
    with op.batch_alter_table("loan_commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_commitments_request_id"))
        batch_op.drop_index(batch_op.f("ix_loan_commitments_order_id"))
        batch_op.drop_index("ix_loan_commitments_lender_status")

    op.drop_table("loan_commitments")
    with op.batch_alter_table("loan_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_matches_request_id"))
        batch_op.drop_index(batch_op.f("ix_loan_matches_order_id"))

    op.drop_table("loan_matches")
    with op.batch_alter_table("crowdfunding_pledge_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowdfunding_pledge_changes_pledge_id"))
        batch_op.drop_index("ix_crowdfunding_pledge_changes_campaign_id_created_at")

    op.drop_table("crowdfunding_pledge_changes")
    with op.batch_alter_table("crowdfunding_events", schema=None) as batch_op:
        batch_op.drop_index("ix_crowdfunding_events_subject_id_kind")
        batch_op.drop_index(batch_op.f("ix_crowdfunding_events_campaign_id"))

    op.drop_table("crowdfunding_events")
    op.drop_table("trust_revision_requests")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index("ix_payouts_user_id_id")

    op.drop_table("payouts")
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_refunds_payment_id"))

    op.drop_table("payment_refunds")
    with op.batch_alter_table("loan_repayments", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_repayments_loan")

    op.drop_table("loan_repayments")
    with op.batch_alter_table("loan_instalments", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_instalments_status_due_on")

    op.drop_table("loan_instalments")
    with op.batch_alter_table("lending_repayment_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lending_repayment_events_loan_id"))
        batch_op.drop_index("ix_lending_repayment_events_borrower")

    op.drop_table("lending_repayment_events")
    with op.batch_alter_table("lender_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_lender_orders_status_placed_at")
        batch_op.drop_index(batch_op.f("ix_lender_orders_lender_id"))

    op.drop_table("lender_orders")
    with op.batch_alter_table("crowdfunding_pledges", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_crowdfunding_pledges_open",
            sqlite_where=sa.text("status IN ('awaiting_card','pending')"),
            postgresql_where=sa.text("status IN ('awaiting_card','pending')"),
        )
        batch_op.drop_index("ix_crowdfunding_pledges_campaign_id_status")
        batch_op.drop_index(batch_op.f("ix_crowdfunding_pledges_backer_id"))

    op.drop_table("crowdfunding_pledges")
    with op.batch_alter_table("trust_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_ratings_transaction_id"))
        batch_op.drop_index("ix_trust_ratings_sealed_due")
        batch_op.drop_index(batch_op.f("ix_trust_ratings_rater_id"))
        batch_op.drop_index("ix_trust_ratings_ratee")

    op.drop_table("trust_ratings")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postings_entry_id"))
        batch_op.drop_index("ix_postings_account_id_id")

    op.drop_table("postings")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index("ix_loans_status")
        batch_op.drop_index(batch_op.f("ix_loans_borrower_id"))

    op.drop_table("loans")
    with op.batch_alter_table("ledger_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_holds_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_ledger_holds_account_id"))

    op.drop_table("ledger_holds")
    with op.batch_alter_table("crowdfunding_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowdfunding_updates_campaign_id"))

    op.drop_table("crowdfunding_updates")
    with op.batch_alter_table("crowdfunding_stretch_goals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowdfunding_stretch_goals_campaign_id"))

    op.drop_table("crowdfunding_stretch_goals")
    with op.batch_alter_table("crowdfunding_reward_tiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowdfunding_reward_tiers_campaign_id"))

    op.drop_table("crowdfunding_reward_tiers")
    op.drop_table("crowdfunding_payouts")
    with op.batch_alter_table("crowdfunding_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowdfunding_comments_campaign_id"))

    op.drop_table("crowdfunding_comments")
    op.drop_table("user_roles")
    with op.batch_alter_table("trust_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_transactions_principal")
        batch_op.drop_index("ix_trust_transactions_counterparty")

    op.drop_table("trust_transactions")
    with op.batch_alter_table("trust_score_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_score_snapshots_user")
        batch_op.drop_index(batch_op.f("ix_trust_score_snapshots_run_id"))

    op.drop_table("trust_score_snapshots")
    with op.batch_alter_table("trust_repayment_events", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_repayment_events_user")

    op.drop_table("trust_repayment_events")
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_grants_user_id"))

    op.drop_table("role_grants")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))

    op.drop_table("recovery_codes")
    op.drop_table("payout_accounts")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_user_id_id")

    op.drop_table("payments")
    with op.batch_alter_table("password_reset_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_tokens_user_id"))

    op.drop_table("password_reset_tokens")
    with op.batch_alter_table("loan_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_requests_status_listed_at")
        batch_op.drop_index(batch_op.f("ix_loan_requests_borrower_id"))

    op.drop_table("loan_requests")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_owner_id"))

    op.drop_table("ledger_accounts")
    with op.batch_alter_table("kyc_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kyc_changes_user_id"))

    op.drop_table("kyc_changes")
    with op.batch_alter_table("crowdfunding_knowledge_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowdfunding_knowledge_attempts_user_id"))

    op.drop_table("crowdfunding_knowledge_attempts")
    op.drop_table("crowdfunding_investor_profiles")
    with op.batch_alter_table("crowdfunding_campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_crowdfunding_campaigns_status_deadline_at")
        batch_op.drop_index(batch_op.f("ix_crowdfunding_campaigns_initiator_id"))

    op.drop_table("crowdfunding_campaigns")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("trust_score_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_score_runs_as_of"))

    op.drop_table("trust_score_runs")
    op.drop_table("testmode_requests")
    with op.batch_alter_table("testmode_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_testmode_objects_kind"))

    op.drop_table("testmode_objects")
    op.drop_table("testmode_events")
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_mail_unsent")

    op.drop_table("outbox_mail")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_ref")
        batch_op.drop_index(batch_op.f("ix_journal_entries_gateway_ref"))

    op.drop_table("journal_entries")
    with op.batch_alter_table("gateway_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_events_type"))
        batch_op.drop_index(batch_op.f("ix_gateway_events_object_id"))

    op.drop_table("gateway_events")
    op.drop_table("audit_nodes")
    op.drop_table("audit_log_head")
    with op.batch_alter_table("audit_leaves", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_leaves_subject_sequence")
        batch_op.drop_index("ix_audit_leaves_event_type_sequence")

    op.drop_table("audit_leaves")
    op.drop_table("audit_checkpoints")
    # ### end Alembic commands ###
