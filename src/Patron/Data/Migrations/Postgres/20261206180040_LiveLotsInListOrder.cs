using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LiveLotsInListOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_point_lots_live",
                table: "point_lots");
            // In MemberPoints.LiveLots' order, never-expiring lots last: the expression is what the query sorts by.
            migrationBuilder.Sql("""
                CREATE INDEX ix_point_lots_live ON point_lots (member_id, (expires_at IS NULL), expires_at, available_at, id)
                    WHERE remaining > 0
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_point_lots_live");
            migrationBuilder.CreateIndex(
                name: "ix_point_lots_live",
                table: "point_lots",
                columns: new[] { "member_id", "id" },
                filter: "remaining > 0");
        }
    }
}
