using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Patron.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Cards : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "card_sales",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    channel_id = table.Column<int>(type: "integer", nullable: false),
                    channel_name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    sale_no = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    card_info_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    member_id = table.Column<long>(type: "bigint", nullable: false),
                    member_code = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    num = table.Column<int>(type: "integer", nullable: false),
                    pay_amt = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: false),
                    sale_time = table.Column<long>(type: "bigint", nullable: false),
                    sale_user = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    sale_org_code = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    create_time = table.Column<long>(type: "bigint", nullable: false),
                    status = table.Column<int>(type: "integer", nullable: false),
                    refund_amt = table.Column<decimal>(type: "numeric(18,2)", precision: 18, scale: 2, nullable: true),
                    refund_time = table.Column<long>(type: "bigint", nullable: true),
                    request_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    result_json = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_card_sales", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "card_use_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    usage_entry_id = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    use_no = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    posid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    channel_id = table.Column<int>(type: "integer", nullable: false),
                    at = table.Column<long>(type: "bigint", nullable: false),
                    has_used_num_after = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_card_use_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "card_uses",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    channel_id = table.Column<int>(type: "integer", nullable: false),
                    use_no = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    usage_entry_id = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    member_card_id = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    posid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    use_time = table.Column<long>(type: "bigint", nullable: false),
                    cycle = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<long>(type: "bigint", nullable: false),
                    cancelled_at = table.Column<long>(type: "bigint", nullable: true),
                    request_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    result_json = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_card_uses", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "member_cards",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    sale_id = table.Column<long>(type: "bigint", nullable: false),
                    card_info_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    member_id = table.Column<long>(type: "bigint", nullable: false),
                    member_code = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    status = table.Column<int>(type: "integer", nullable: false),
                    begin_time = table.Column<long>(type: "bigint", nullable: false),
                    end_time = table.Column<long>(type: "bigint", nullable: false),
                    create_time = table.Column<long>(type: "bigint", nullable: false),
                    lock_version = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_member_cards", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "usage_entries",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    member_card_id = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    card_product_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    card_product_name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    total_used_num = table.Column<int>(type: "integer", nullable: false),
                    cycle_days = table.Column<int>(type: "integer", nullable: false),
                    cycle_num = table.Column<int>(type: "integer", nullable: false),
                    has_used_num = table.Column<int>(type: "integer", nullable: false),
                    last_cycle = table.Column<int>(type: "integer", nullable: false),
                    last_cycle_used = table.Column<int>(type: "integer", nullable: false),
                    posid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    lock_version = table.Column<int>(type: "integer", nullable: false),
                    status = table.Column<int>(type: "integer", nullable: false),
                    begin_time = table.Column<long>(type: "bigint", nullable: false),
                    end_time = table.Column<long>(type: "bigint", nullable: false),
                    create_time = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_usage_entries", x => x.id);
                    table.ForeignKey(
                        name: "FK_usage_entries_member_cards_member_card_id",
                        column: x => x.member_card_id,
                        principalTable: "member_cards",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_card_sales_channel_id_sale_no",
                table: "card_sales",
                columns: new[] { "channel_id", "sale_no" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_card_sales_sale_time",
                table: "card_sales",
                column: "sale_time");

            migrationBuilder.CreateIndex(
                name: "IX_card_use_log_usage_entry_id",
                table: "card_use_log",
                column: "usage_entry_id");

            migrationBuilder.CreateIndex(
                name: "IX_card_uses_channel_id_use_no",
                table: "card_uses",
                columns: new[] { "channel_id", "use_no" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_card_uses_usage_entry_id_cycle",
                table: "card_uses",
                columns: new[] { "usage_entry_id", "cycle" });

            migrationBuilder.CreateIndex(
                name: "IX_card_uses_use_time",
                table: "card_uses",
                column: "use_time");

            migrationBuilder.CreateIndex(
                name: "IX_member_cards_member_id",
                table: "member_cards",
                column: "member_id");

            migrationBuilder.CreateIndex(
                name: "IX_member_cards_sale_id",
                table: "member_cards",
                column: "sale_id");

            migrationBuilder.CreateIndex(
                name: "IX_usage_entries_member_card_id_card_product_id",
                table: "usage_entries",
                columns: new[] { "member_card_id", "card_product_id" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "card_sales");

            migrationBuilder.DropTable(
                name: "card_use_log");

            migrationBuilder.DropTable(
                name: "card_uses");

            migrationBuilder.DropTable(
                name: "usage_entries");

            migrationBuilder.DropTable(
                name: "member_cards");
        }
    }
}
