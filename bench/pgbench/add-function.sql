-- A points add as one SQL function call: one round trip, one commit.
\set member random(1, :members)
\set key random(1, 9000000000000000)
SELECT points_add(:member, 10, :key);
