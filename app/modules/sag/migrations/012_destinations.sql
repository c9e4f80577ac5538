-- Placeholder so that this branch's 013 runs without a gap in the numbering: branch `dest`
-- owns this number; at the merge its file replaces this one.
SELECT 1;
