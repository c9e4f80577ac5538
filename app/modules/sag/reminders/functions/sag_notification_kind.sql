-- What a notification is, for the inbox's kind filter and counts, from its queue event's kind:
-- 'mention', 'watch' (a watched case's news), else 'reminder' (rules and their summaries;
-- also a row whose event is gone). One definition, inlined by the planner where it is used.
CREATE OR REPLACE FUNCTION sag_notification_kind(p_event_kind TEXT)
RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_event_kind IN ('mention', 'watch') THEN p_event_kind ELSE 'reminder' END
$$;
