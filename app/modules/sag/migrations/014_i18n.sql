-- Statuses are data, shown in the reader's language: `label` is the English name (the API's,
-- stable for scripts), `label_da` the Danish one. A status added later without a Danish name
-- shows its English one to Danish readers until it gets one.
ALTER TABLE sag_statuses ADD COLUMN label_da VARCHAR(64);
UPDATE sag_statuses SET label_da = CASE key
    WHEN 'new' THEN 'Ny'
    WHEN 'in_progress' THEN 'I gang'
    WHEN 'waiting_customer' THEN 'Afventer kunde'
    WHEN 'on_hold' THEN 'Sat i bero'
    WHEN 'resolved' THEN 'Løst'
    WHEN 'closed' THEN 'Lukket'
    ELSE label END;
ALTER TABLE sag_statuses ALTER COLUMN label_da SET NOT NULL;
COMMENT ON COLUMN sag_statuses.label IS 'the status''s English name';
COMMENT ON COLUMN sag_statuses.label_da IS 'the status''s Danish name';
