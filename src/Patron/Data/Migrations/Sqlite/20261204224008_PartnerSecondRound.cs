using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PartnerSecondRound : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "time_zone",
                table: "member_cards",
                type: "TEXT",
                maxLength: 64,
                nullable: false,
                defaultValue: "");

            // Cards sold before this column keep the calendar they were sold on: the zone set now.
            migrationBuilder.Sql(
                "UPDATE member_cards SET time_zone = COALESCE(NULLIF((SELECT value FROM settings WHERE key = 'timeZone'), ''), 'Asia/Shanghai')");

            migrationBuilder.AddColumn<bool>(
                name: "bill_num_is_key",
                table: "channels",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "max_sale_age_days",
                table: "channels",
                type: "INTEGER",
                nullable: false,
                defaultValue: 31);

            migrationBuilder.AddColumn<int>(
                name: "max_use_age_days",
                table: "channels",
                type: "INTEGER",
                nullable: false,
                defaultValue: 31);

            migrationBuilder.AddColumn<int>(
                name: "rate_burst",
                table: "channels",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "rate_per_second",
                table: "channels",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "refund_policy",
                table: "cards",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "full");

            migrationBuilder.CreateIndex(
                name: "ux_point_ledger_operator_key",
                table: "point_ledger",
                columns: new[] { "actor", "idempotency_key" },
                unique: true,
                filter: "channel_id IS NULL AND idempotency_key IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_point_ledger_operator_key",
                table: "point_ledger");

            migrationBuilder.DropColumn(
                name: "time_zone",
                table: "member_cards");

            migrationBuilder.DropColumn(
                name: "bill_num_is_key",
                table: "channels");

            migrationBuilder.DropColumn(
                name: "max_sale_age_days",
                table: "channels");

            migrationBuilder.DropColumn(
                name: "max_use_age_days",
                table: "channels");

            migrationBuilder.DropColumn(
                name: "rate_burst",
                table: "channels");

            migrationBuilder.DropColumn(
                name: "rate_per_second",
                table: "channels");

            migrationBuilder.DropColumn(
                name: "refund_policy",
                table: "cards");
        }
    }
}
