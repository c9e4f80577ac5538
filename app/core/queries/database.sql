-- name: begin_read_only
-- READ_ONLY: this transaction read-only, the session's next ones too (a COMMIT in module SQL cannot escape), snapshot taken (the mode is fixed from here), marked as the helpers'.
SET TRANSACTION READ ONLY;
SELECT set_config('default_transaction_read_only', 'on', false), set_config('bmc.guarded', 'on', true),
       set_config('bmc.user_id', {user_id}, true);

-- name: begin_dry_run
-- DRY_RUN: the session's next transactions read-only (a COMMIT in module SQL cannot escape); this one marked as the helpers'.
SELECT set_config('default_transaction_read_only', 'on', false), set_config('bmc.guarded', 'on', true),
       set_config('bmc.user_id', {user_id}, true);

-- name: end_guarded
-- Whether the helpers' transaction is still the open one (module SQL did not end it) and whether it wrote anything (a write assigns an id).
SELECT current_setting('bmc.guarded', true) IS NOT DISTINCT FROM 'on' AS ours,
       pg_current_xact_id_if_assigned() IS NOT NULL AS wrote;
