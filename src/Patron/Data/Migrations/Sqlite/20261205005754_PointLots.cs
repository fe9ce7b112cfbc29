using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PointLots : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "earned",
                table: "point_ledger",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "pending_value",
                table: "point_ledger",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "shortfall",
                table: "point_ledger",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "level_since",
                table: "members",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "expiry",
                table: "channels",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "pending_days",
                table: "channels",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "point_lots",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    member_id = table.Column<long>(type: "INTEGER", nullable: false),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: true),
                    busi_type = table.Column<string>(type: "TEXT", maxLength: 1, nullable: false),
                    busi_bill_num = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    amount = table.Column<long>(type: "INTEGER", nullable: false),
                    remaining = table.Column<long>(type: "INTEGER", nullable: false),
                    pending = table.Column<bool>(type: "INTEGER", nullable: false),
                    earned_at = table.Column<long>(type: "INTEGER", nullable: false),
                    available_at = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_point_lots", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_members_level_since",
                table: "members",
                column: "level_since");

            migrationBuilder.CreateIndex(
                name: "ix_point_lots_expiring",
                table: "point_lots",
                column: "expires_at",
                filter: "remaining > 0 AND NOT pending AND expires_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_point_lots_live",
                table: "point_lots",
                columns: new[] { "member_id", "id" },
                filter: "remaining > 0");

            migrationBuilder.CreateIndex(
                name: "ix_point_lots_pending",
                table: "point_lots",
                column: "available_at",
                filter: "remaining > 0 AND pending");

            // Every level dates from the member's creation, every positive row earned what it added, and
            // each balance carried over becomes one lot that never expires, so the lots add up to it.
            migrationBuilder.Sql("UPDATE members SET level_since = created_at");
            migrationBuilder.Sql("UPDATE point_ledger SET earned = change_value WHERE change_value > 0");
            migrationBuilder.Sql("""
                INSERT INTO point_lots (member_id, channel_id, busi_type, busi_bill_num, amount, remaining, pending, earned_at, available_at, expires_at)
                SELECT id, NULL, 'O', 'BALANCE', balance, balance, 0, created_at, created_at, NULL FROM members WHERE balance > 0
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "point_lots");

            migrationBuilder.DropIndex(
                name: "IX_members_level_since",
                table: "members");

            migrationBuilder.DropColumn(
                name: "earned",
                table: "point_ledger");

            migrationBuilder.DropColumn(
                name: "pending_value",
                table: "point_ledger");

            migrationBuilder.DropColumn(
                name: "shortfall",
                table: "point_ledger");

            migrationBuilder.DropColumn(
                name: "level_since",
                table: "members");

            migrationBuilder.DropColumn(
                name: "expiry",
                table: "channels");

            migrationBuilder.DropColumn(
                name: "pending_days",
                table: "channels");
        }
    }
}
