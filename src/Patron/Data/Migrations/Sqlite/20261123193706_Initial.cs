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
                name: "audit_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    at = table.Column<long>(type: "INTEGER", nullable: false),
                    actor = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    action = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    entity = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    entity_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    before = table.Column<string>(type: "TEXT", nullable: true),
                    after = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "card_sales",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: false),
                    channel_name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    sale_no = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    card_info_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    member_id = table.Column<long>(type: "INTEGER", nullable: false),
                    member_code = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    num = table.Column<int>(type: "INTEGER", nullable: false),
                    pay_amt = table.Column<decimal>(type: "TEXT", precision: 18, scale: 2, nullable: false),
                    sale_time = table.Column<long>(type: "INTEGER", nullable: false),
                    sale_user = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    sale_org_code = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    create_time = table.Column<long>(type: "INTEGER", nullable: false),
                    status = table.Column<int>(type: "INTEGER", nullable: false),
                    refund_amt = table.Column<decimal>(type: "TEXT", precision: 18, scale: 2, nullable: true),
                    refund_time = table.Column<long>(type: "INTEGER", nullable: true),
                    request_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    result_json = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_card_sales", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "card_use_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    usage_entry_id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    use_no = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    posid = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false),
                    has_used_num_after = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_card_use_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "card_uses",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    channel_id = table.Column<int>(type: "INTEGER", nullable: false),
                    use_no = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    usage_entry_id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    member_card_id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    posid = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    use_time = table.Column<long>(type: "INTEGER", nullable: false),
                    cycle = table.Column<int>(type: "INTEGER", nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    cancelled_at = table.Column<long>(type: "INTEGER", nullable: true),
                    request_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    result_json = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_card_uses", x => x.id);
                });

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
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
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
                name: "member_cards",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    sale_id = table.Column<long>(type: "INTEGER", nullable: false),
                    card_info_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    member_id = table.Column<long>(type: "INTEGER", nullable: false),
                    member_code = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    status = table.Column<int>(type: "INTEGER", nullable: false),
                    begin_time = table.Column<long>(type: "INTEGER", nullable: false),
                    end_time = table.Column<long>(type: "INTEGER", nullable: false),
                    create_time = table.Column<long>(type: "INTEGER", nullable: false),
                    lock_version = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_member_cards", x => x.id);
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
                    at = table.Column<long>(type: "INTEGER", nullable: false)
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
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
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
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    failed_sign_ins = table.Column<int>(type: "INTEGER", nullable: false),
                    locked_until = table.Column<long>(type: "INTEGER", nullable: true),
                    api_token_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true)
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
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
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

            migrationBuilder.CreateTable(
                name: "usage_entries",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    member_card_id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    card_product_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    card_product_name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    total_used_num = table.Column<int>(type: "INTEGER", nullable: false),
                    cycle_days = table.Column<int>(type: "INTEGER", nullable: false),
                    cycle_num = table.Column<int>(type: "INTEGER", nullable: false),
                    has_used_num = table.Column<int>(type: "INTEGER", nullable: false),
                    last_cycle = table.Column<int>(type: "INTEGER", nullable: false),
                    last_cycle_used = table.Column<int>(type: "INTEGER", nullable: false),
                    posid = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    lock_version = table.Column<int>(type: "INTEGER", nullable: false),
                    status = table.Column<int>(type: "INTEGER", nullable: false),
                    begin_time = table.Column<long>(type: "INTEGER", nullable: false),
                    end_time = table.Column<long>(type: "INTEGER", nullable: false),
                    create_time = table.Column<long>(type: "INTEGER", nullable: false)
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
                name: "IX_audit_log_entity_entity_id",
                table: "audit_log",
                columns: new[] { "entity", "entity_id" });

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
                name: "IX_member_cards_member_id",
                table: "member_cards",
                column: "member_id");

            migrationBuilder.CreateIndex(
                name: "IX_member_cards_sale_id",
                table: "member_cards",
                column: "sale_id");

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
                name: "IX_operators_api_token_hash",
                table: "operators",
                column: "api_token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_point_ledger_channel_id_idempotency_key",
                table: "point_ledger",
                columns: new[] { "channel_id", "idempotency_key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_point_ledger_created_at",
                table: "point_ledger",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "IX_point_ledger_member_id_auto_id",
                table: "point_ledger",
                columns: new[] { "member_id", "auto_id" });

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
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "card_products");

            migrationBuilder.DropTable(
                name: "card_sales");

            migrationBuilder.DropTable(
                name: "card_use_log");

            migrationBuilder.DropTable(
                name: "card_uses");

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
                name: "usage_entries");

            migrationBuilder.DropTable(
                name: "cards");

            migrationBuilder.DropTable(
                name: "member_cards");
        }
    }
}
