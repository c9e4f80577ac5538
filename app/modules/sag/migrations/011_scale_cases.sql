-- The "due soon" and "overdue" views (open cases by deadline, then id) at a million cases: with
-- id in the partial index the index itself is in the list's order, so the first page is the
-- first 25 index entries. With (deadline) alone the planner, misjudging how many open cases fall
-- in the next 24 hours (a narrow range at the edge of the statistics), fetched every match with
-- a bitmap scan and sorted them: 240 ms for 4,000 matches, 1.5 ms now (docs/performance.md).
DROP INDEX sag_sager_open_deadline_idx;
CREATE INDEX sag_sager_open_deadline_idx ON sag_sager (deadline, id) WHERE closed_at IS NULL AND deadline IS NOT NULL;
