-- A points add as plain statements: four round trips (BEGIN, UPDATE, INSERT, COMMIT).
\set member random(1, :members)
\set key random(1, 9000000000000000)
BEGIN;
UPDATE members SET balance = balance + 10, lifetime_earned = lifetime_earned + 10 WHERE id = :member RETURNING balance \gset
INSERT INTO point_ledger (member_id, busi_type, busi_bill_num, change_value, balance_before, balance_after,
                          level_before, level_after, channel_id, actor, created_at, idempotency_key, request_hash)
VALUES (:member, 'P', 'B' || CAST(:key AS text), 10, CAST(:balance AS bigint) - 10, :balance, 1, 1, 1, 'bench', now(), :key,
        '0000000000000000000000000000000000000000000000000000000000000000');
END;
