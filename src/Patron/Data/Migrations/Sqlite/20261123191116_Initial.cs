using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "cards",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    price = table.Column<decimal>(type: "TEXT", precision: 18, scale: 2, nullable: false),
                    valid_days = table.Column<int>(type: "INTEGER", nullable: false),
                    on_sale = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_cards", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "channels",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    api_key_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    des_key = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    cipher = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    scopes = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_channels", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "levels",
                columns: table => new
                {
                    id = table.Column<byte>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    threshold = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_levels", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "member_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    member_id = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    from_value = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    to_value = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    actor = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_member_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "members",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false),
                    code = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    phone = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    level_id = table.Column<byte>(type: "INTEGER", nullable: false),
                    balance = table.Column<long>(type: "INTEGER", nullable: false),
                    lifetime_earned = table.Column<long>(type: "INTEGER", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_members", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "operators",
                columns: table => new
                {
                    user_name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    password_hash = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    role = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_operators", x => x.user_name);
                });

            migrationBuilder.CreateTable(
                name: "point_ledger",
                columns: table => new
                {
                    auto_id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    member_id = table.Column<long>(type: "INTEGER", nullable: false),
                    busi_type = table.Column<string>(type: "TEXT", maxLength: 1, nullable: false),
                    busi_bill_num = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    change_value = table.Column<long>(type: "INTEGER", nullable: false),
                    balance_before = table.Column<long>(type: "INTEGER", nullable: false),
                    balance_after = table.Column<long>(type: "INTEGER", nullable: false),
                    level_before = table.Column<byte>(type: "INTEGER", nullable: false),
                    level_after = table.Column<byte>(type: "INTEGER", nullable: false),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: true),
                    actor = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    idempotency_key = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    request_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_point_ledger", x => x.auto_id);
                });

            migrationBuilder.CreateTable(
                name: "settings",
                columns: table => new
                {
                    key = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_settings", x => x.key);
                });

            migrationBuilder.CreateTable(
                name: "card_products",
                columns: table => new
                {
                    card_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    total_used_num = table.Column<int>(type: "INTEGER", nullable: false),
                    cycle_days = table.Column<int>(type: "INTEGER", nullable: false),
                    cycle_num = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_card_products", x => new { x.card_id, x.id });
                    table.ForeignKey(
                        name: "FK_card_products_cards_card_id",
                        column: x => x.card_id,
                        principalTable: "cards",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_channels_api_key_hash",
                table: "channels",
                column: "api_key_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_channels_name",
                table: "channels",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_member_log_member_id_id",
                table: "member_log",
                columns: new[] { "member_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_members_code",
                table: "members",
                column: "code",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_members_phone",
                table: "members",
                column: "phone");

            migrationBuilder.CreateIndex(
                name: "IX_point_ledger_channel_id_idempotency_key",
                table: "point_ledger",
                columns: new[] { "channel_id", "idempotency_key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_point_ledger_member_id_auto_id",
                table: "point_ledger",
                columns: new[] { "member_id", "auto_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "card_products");

            migrationBuilder.DropTable(
                name: "channels");

            migrationBuilder.DropTable(
                name: "levels");

            migrationBuilder.DropTable(
                name: "member_log");

            migrationBuilder.DropTable(
                name: "members");

            migrationBuilder.DropTable(
                name: "operators");

            migrationBuilder.DropTable(
                name: "point_ledger");

            migrationBuilder.DropTable(
                name: "settings");

            migrationBuilder.DropTable(
                name: "cards");
        }
    }
}
