using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class KeptAnswers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "cancel_result_json",
                table: "card_uses",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "refund_result_json",
                table: "card_sales",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "cancel_result_json",
                table: "card_uses");

            migrationBuilder.DropColumn(
                name: "refund_result_json",
                table: "card_sales");
        }
    }
}
