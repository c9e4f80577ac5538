-- Branch dest only: keeps sag's migration numbers without a gap until branch `slarules` brings the real
-- 010 migration. The integrator drops this file (git revert of its commit) when merging.
SELECT 1;
