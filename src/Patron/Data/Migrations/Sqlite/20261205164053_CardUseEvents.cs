using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CardUseEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "card_use_id",
                table: "outbox_events",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "card_use_id",
                table: "outbox_events");
        }
    }
}
