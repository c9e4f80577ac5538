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


def test_templates_that_only_print_variables_render_as_jinja_renders_them():
    from datetime import UTC, datetime

    import pytest

    from app.modules.sag.reminders.render import ReminderTemplateError, _plan, _render_jinja, _render_plan

    ctx = {"case": {"number": 7, "title": "Printer <b> & co", "deadline": datetime(2026, 1, 2, 3, tzinfo=UTC),
                    "customer": "", "priority": None, "items": "shadowed", "nested": {"a": {"b": [1, 2]}}},
           "event": {"from": "new", "to": "open"}, "old_status": "new", "flag": True, "n": 1.5}
    templates = ["#{{ case.number }} {{ case.title }} is in progress", "{{ case.deadline }} / {{ case.priority }}",
                 "  {{ old_status }} -> {{ event.to }}\n", "{{ case.nested.a.b }}{{ flag }}{{ n }}",
                 "{{ case.items }}", "{{ case.keys }}", "{{ case.__class__ }}", "{{ range }}", "{{ case.customer }}x",
                 "{{ case.missing }}", "{{ nobody }}", "{{ case.number.real }}", "{{ event['to'] }}",
                 "{{ case.title|upper }}", "{% if flag %}yes{% endif %}", "{{ case.title }", "{{ 1 + }}"]
    for source in templates:
        try:
            expected = _render_jinja(source, ctx, 200)
        except ReminderTemplateError as exc:
            with pytest.raises(ReminderTemplateError) as caught:
                render(source, ctx, 200)
            assert str(caught.value) == str(exc)
            continue
        assert render(source, ctx, 200) == expected, source
    # The common rule takes the short way (no Jinja runtime); the others are Jinja's.
    assert _render_plan(_plan(templates[0]), ctx) == "#7 Printer <b> & co is in progress"
    assert _render_plan(_plan("{{ case.items }}"), ctx) is None and _plan("{{ case.title|upper }}") is None
