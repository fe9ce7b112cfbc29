using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
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
                FROM outbox_events e JOIN webhooks w ON w.enabled
                    AND (instr(' ' || w.events || ' ', ' ' || e.type || ' ') > 0 OR instr(' ' || w.events || ' ', ' * ') > 0)
                WHERE NOT e.dispatched
                ORDER BY e.id, w.id;
                """);

            migrationBuilder.DropIndex(
                name: "ix_outbox_events_undispatched",
                table: "outbox_events");

            migrationBuilder.DropColumn(
                name: "dispatched",
                table: "outbox_events");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "dispatched",
                table: "outbox_events",
                type: "INTEGER",
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
