using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LedgerTimeBrin : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_point_ledger_created_at",
                table: "point_ledger");

            migrationBuilder.CreateIndex(
                name: "IX_point_ledger_created_at",
                table: "point_ledger",
                column: "created_at")
                .Annotation("Npgsql:IndexMethod", "brin");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_point_ledger_created_at",
                table: "point_ledger");

            migrationBuilder.CreateIndex(
                name: "IX_point_ledger_created_at",
                table: "point_ledger",
                column: "created_at");
        }
    }
}
