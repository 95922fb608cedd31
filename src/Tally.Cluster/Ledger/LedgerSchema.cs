using Npgsql;

namespace Tally.Cluster.Ledger;

/// <summary>
/// The ledger's tables in PostgreSQL, created and upgraded by numbered migrations under an advisory lock, so
/// nodes starting together apply each one once. Poll definitions, one row per ballot (its current choice), the
/// projector's checkpoint, each partition's latest snapshot, the access store's tables, and the webhook store's. The partial unique key on (poll, voter) makes one-ballot-per-voter hold in the
/// system of record itself, not only in the writer that decided it.
/// </summary>
internal static class LedgerSchema
{
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE polls (
            id            text PRIMARY KEY,
            question      text        NOT NULL,
            kind          text        NOT NULL,
            max_choices   int         NOT NULL,
            options       text[]      NOT NULL,
            created_at    timestamptz NOT NULL,
            closes_at     timestamptz,
            dedupe        text        NOT NULL,
            allow_change  boolean     NOT NULL,
            status        text        NOT NULL DEFAULT 'open',
            closed_at     timestamptz,
            close_reason  text,
            seq           bigint      NOT NULL
        );
        CREATE TABLE ballots (
            poll_id         text        NOT NULL REFERENCES polls (id),
            ballot_seq      bigint      NOT NULL,
            voter_id        text,
            one_per_voter   boolean     NOT NULL,
            option_ids      int[]       NOT NULL,
            idempotency_key text,
            cast_at         timestamptz NOT NULL,
            changed_at      timestamptz,
            changed_seq     bigint,
            PRIMARY KEY (poll_id, ballot_seq)
        );
        CREATE UNIQUE INDEX ballots_one_per_voter ON ballots (poll_id, voter_id) WHERE one_per_voter;
        CREATE TABLE ledger_checkpoints (
            stream text   PRIMARY KEY,
            seq    bigint NOT NULL
        );
        """,
        """
        CREATE TABLE partition_snapshots (
            stream      text        NOT NULL,
            partition   int         NOT NULL,
            replay_from bigint      NOT NULL,
            taken_at    timestamptz NOT NULL,
            data        bytea       NOT NULL,
            PRIMARY KEY (stream, partition)
        );
        """,
        // The access store (PostgresAccessStore). Ids sort in "C" collation (ordinal, as the port lists them), not the
        // database's locale. A workspace's settings are a JSON document; its JWT issuer is copied out into a column
        // whose unique index (NULLs apart) keeps one issuer to one workspace. access_version is one row, raised in the
        // transaction of every access write, so nodes learn with one small read that their caches are stale.
        """
        CREATE TABLE workspaces (
            id         text COLLATE "C" PRIMARY KEY,
            name       text        NOT NULL,
            created_at timestamptz NOT NULL,
            jwt_issuer text,
            settings   jsonb       NOT NULL
        );
        CREATE UNIQUE INDEX workspaces_jwt_issuer ON workspaces (jwt_issuer);
        CREATE TABLE api_keys (
            id           text COLLATE "C" PRIMARY KEY,
            workspace    text COLLATE "C" NOT NULL REFERENCES workspaces (id),
            name         text        NOT NULL,
            scopes       int         NOT NULL,
            secret_hash  bytea       NOT NULL,
            created_at   timestamptz NOT NULL,
            expires_at   timestamptz,
            revoked_at   timestamptz,
            last_used_at timestamptz,
            created_by   text
        );
        CREATE INDEX api_keys_by_workspace ON api_keys (workspace, created_at DESC, id DESC);
        CREATE TABLE audit_log (
            id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            workspace text COLLATE "C" NOT NULL,
            at        timestamptz NOT NULL,
            actor     text        NOT NULL,
            action    text        NOT NULL,
            target    text,
            detail    text
        );
        CREATE INDEX audit_log_by_workspace ON audit_log (workspace, id DESC);
        CREATE TABLE server_secrets (
            name  text  PRIMARY KEY,
            value bytea NOT NULL
        );
        CREATE TABLE access_version (
            id      int    PRIMARY KEY CHECK (id = 1),
            version bigint NOT NULL
        );
        INSERT INTO access_version (id, version) VALUES (1, 0);
        """,
        // Rating and nps polls: option n is the value scale_min + n - 1 (0 on the other kinds). A poll's schedule: when a
        // scheduled poll opens, and the ballots after which it closes. status also takes 'draft', 'scheduled', 'paused'.
        """
        ALTER TABLE polls ADD COLUMN scale_min int NOT NULL DEFAULT 0;
        ALTER TABLE polls ADD COLUMN opens_at timestamptz;
        ALTER TABLE polls ADD COLUMN max_ballots bigint;
        """,
        // Webhook endpoints (settings and sealed secrets in a JSON document; the cursor is a log position of the
        // cluster's feed, so an endpoint belongs to one cluster's stream) and their delivery logs.
        """
        CREATE TABLE webhook_endpoints (
            id         text        PRIMARY KEY,
            stream     text        NOT NULL,
            workspace  text        NOT NULL,
            created_at timestamptz NOT NULL,
            cursor     bigint      NOT NULL,
            document   text        NOT NULL
        );
        CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints (stream, workspace, id);
        CREATE TABLE webhook_attempts (
            id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            endpoint    text        NOT NULL,
            message_id  text        NOT NULL,
            event_type  text        NOT NULL,
            position    bigint      NOT NULL,
            attempt     int         NOT NULL,
            at          timestamptz NOT NULL,
            status      int         NOT NULL,
            succeeded   boolean     NOT NULL,
            duration_ms int         NOT NULL,
            error       text
        );
        CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint, id DESC);
        """,
    ];

    public static async Task MigrateAsync(NpgsqlDataSource data, CancellationToken cancellationToken)
    {
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(7415553127001); CREATE TABLE IF NOT EXISTS tally_schema (version int NOT NULL);", cancellationToken).ConfigureAwait(false);
        await using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM tally_schema", connection))
        {
            var current = (int)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            for (var v = current; v < Migrations.Length; v++)
            {
                await ExecuteAsync(connection, Migrations[v], cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"INSERT INTO tally_schema (version) VALUES ({v + 1})", cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
