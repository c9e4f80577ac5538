-- Branch dest only: keeps sag's migration numbers without a gap until branch `slareport` brings the real
-- 011 migration. The integrator drops this file (git revert of its commit) when merging.
SELECT 1;
