using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeliveriesTrigger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Deliveries are made with their event, in its statement (see DeliveriesWithEvents). A
            // migration of its own: EF rebuilds a table whose column is dropped after the migration's
            // other steps, and a rebuilt table has lost its triggers; so must any later migration
            // that rebuilds outbox_events create this one again.
            migrationBuilder.Sql("""
                CREATE TRIGGER outbox_events_deliveries AFTER INSERT ON outbox_events
                BEGIN
                    INSERT INTO webhook_deliveries (event_id, webhook_id, member_id, state, attempts, due_at, created_at)
                    SELECT NEW.id, w.id, NEW.member_id, 'P', 0, NEW.at, NEW.at FROM webhooks w
                    WHERE w.enabled AND (instr(' ' || w.events || ' ', ' ' || NEW.type || ' ') > 0 OR instr(' ' || w.events || ' ', ' * ') > 0)
                    ORDER BY w.id;
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER outbox_events_deliveries;");
        }
    }
}
