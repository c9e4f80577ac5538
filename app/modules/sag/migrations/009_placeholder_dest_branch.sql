-- Branch dest only: keeps sag's migration numbers without a gap until branch `mentions` brings the real
-- 009 migration. The integrator drops this file (git revert of its commit) when merging.
SELECT 1;
