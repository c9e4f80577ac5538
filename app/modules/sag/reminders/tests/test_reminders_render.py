"""Rule templates format timestamps, including those that arrive in the event data as text."""

from app.modules.sag.reminders.render import render


def test_datetime_filter_formats_event_timestamps_given_as_iso_text():
    out = render("since {{ event.inactive_since | datetime('%Y-%m-%d %H:%M', 'UTC') }}",
                 {"event": {"inactive_since": "2026-10-25T23:47:50.080737+00:00"}}, 200)
    assert out == "since 2026-10-25 23:47"


def test_datetime_filter_uses_the_hub_time_zone_by_default():
    out = render("{{ when | datetime }}", {"when": "2026-07-01T10:00:00+00:00"}, 200)
    assert out == "2026-07-01 12:00"  # Europe/Copenhagen in summer


def test_datetime_filter_leaves_other_text_alone():
    assert render("{{ x | datetime }}", {"x": "not a date"}, 200) == "not a date"
