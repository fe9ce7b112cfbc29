using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class UniqueDeliveries : Migration
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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
