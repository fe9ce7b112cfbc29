using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Patron.Data.Migrations.Postgres
{
    /// <summary>
    /// <c>patron_expect_rows(actual, expected)</c>: fails the statement, and so its transaction, with
    /// a serialization failure (40001) unless a checked update found every row it expected. A
    /// group-commit batch decided on states it knew uses it to learn, in the same round trip as its
    /// writes, that one of those states has moved. No model change: nothing to snapshot.
    /// </summary>
    [DbContext(typeof(PostgresPatronDb))]
    [Migration("20261201190000_ExpectRows")]
    public sealed class ExpectRows : Migration
    {
        protected override void Up(MigrationBuilder migrationBuilder) => migrationBuilder.Sql("""
            CREATE FUNCTION patron_expect_rows(actual bigint, expected integer) RETURNS void
            LANGUAGE plpgsql AS $$
            BEGIN
                IF actual <> expected THEN
                    RAISE EXCEPTION 'stale batch: % of % rows still held the state the batch was decided on', actual, expected
                        USING ERRCODE = 'serialization_failure';
                END IF;
            END
            $$;
            """);

        protected override void Down(MigrationBuilder migrationBuilder) =>
            migrationBuilder.Sql("DROP FUNCTION patron_expect_rows(bigint, integer);");
    }
}
