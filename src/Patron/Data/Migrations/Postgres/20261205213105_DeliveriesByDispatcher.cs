using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DeliveriesByDispatcher : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_event_id",
                table: "webhook_deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_event_id_webhook_id",
                table: "webhook_deliveries",
                columns: new[] { "event_id", "webhook_id" },
                unique: true);

            // Deliveries are made by the dispatchers from the events of transactions that have ended
            // (PostgresDispatchStore.FanOutSql), not in the writes: each event keeps its transaction's
            // id, which a BRIN index finds by range at next to no cost to the writes, and outbox_fanout
            // the id below which every transaction's events have their deliveries, and the last
            // fan-out's snapshot. The events before this migration had theirs from the trigger and
            // keep no transaction id.
            migrationBuilder.Sql("""
                DROP TRIGGER outbox_events_deliveries ON outbox_events;
                DROP FUNCTION outbox_events_deliveries();
                ALTER TABLE outbox_events ADD COLUMN tx bigint;
                ALTER TABLE outbox_events ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
                CREATE INDEX ix_outbox_events_tx ON outbox_events USING brin (tx) WITH (autosummarize = on);
                CREATE TABLE outbox_fanout (id smallint PRIMARY KEY CHECK (id = 1), below bigint NOT NULL, seen pg_snapshot);
                INSERT INTO outbox_fanout VALUES (1, 0, NULL);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TABLE outbox_fanout;
                ALTER TABLE outbox_events DROP COLUMN tx;
                CREATE FUNCTION outbox_events_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO webhook_deliveries (event_id, webhook_id, member_id, state, attempts, due_at, created_at)
                    SELECT e.id, w.id, e.member_id, 'P', 0, e.at, e.at
                    FROM new_events e JOIN webhooks w
                        ON w.enabled AND (e.type = ANY (string_to_array(w.events, ' ')) OR '*' = ANY (string_to_array(w.events, ' ')))
                    ORDER BY e.id, w.id;
                    RETURN NULL;
                END $$;
                CREATE TRIGGER outbox_events_deliveries AFTER INSERT ON outbox_events
                    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_deliveries();
                """);

            migrationBuilder.DropIndex(
                name: "IX_webhook_deliveries_event_id_webhook_id",
                table: "webhook_deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_deliveries_event_id",
                table: "webhook_deliveries",
                column: "event_id");
        }
    }
}
