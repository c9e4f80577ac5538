-- Whether a destination's event had never been reserved before (sag_reminder_reserve's `fresh`):
-- no log row of such an event can exist yet, so sag_reminder_deliver writes its rows with a plain
-- INSERT, without ON CONFLICT's speculative insertion (an arbiter probe, a speculative lock and
-- a confirm record per row: about a sixth of a log row's cost). The unique delivery key still
-- refuses a duplicate, as an error instead of a silent skip.
ALTER TYPE sag_reminder_destination ADD ATTRIBUTE fresh BOOLEAN;
