using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DeliveriesWithEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Deliveries are made with their event, in its statement, by a trigger: the hot path no
            // longer marks every event dispatched, nor keeps an index of those it has not. The events
            // a dispatcher had not yet taken get their deliveries here, so an upgrade loses none.
            migrationBuilder.Sql("""
                INSERT INTO webhook_deliveries (event_id, webhook_id, member_id, state, attempts, due_at, created_at)
                SELECT e.id, w.id, e.member_id, 'P', 0, e.at, e.at
                FROM outbox_events e JOIN webhooks w ON w.enabled AND (e.type = ANY (string_to_array(w.events, ' ')) OR '*' = ANY (string_to_array(w.events, ' ')))
                WHERE NOT e.dispatched
                ORDER BY e.id, w.id;
                """);

            migrationBuilder.DropIndex(
                name: "ix_outbox_events_undispatched",
                table: "outbox_events");

            migrationBuilder.DropColumn(
                name: "dispatched",
                table: "outbox_events");

            // One statement's events at once (a transition table), in id order, so that a member's
            // deliveries are numbered as its events: the writes hold the member's row until they commit.
            migrationBuilder.Sql("""
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER outbox_events_deliveries ON outbox_events; DROP FUNCTION outbox_events_deliveries();");

            migrationBuilder.AddColumn<bool>(
                name: "dispatched",
                table: "outbox_events",
                type: "boolean",
                nullable: false,
                defaultValue: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_events_undispatched",
                table: "outbox_events",
                column: "id",
                filter: "NOT dispatched");
        }
    }
}
