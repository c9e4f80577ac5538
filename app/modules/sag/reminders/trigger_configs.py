"""The shapes of a reminder rule's `trigger_config`, one per trigger type, as request models
(so `/openapi.json` states them), with the limits they share with the validation in rules.py."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, model_validator

from app.core.fields import VISIBLE, TimeZoneName, checked, one_of_shapes, whole_number

MAX_OFFSET_MINUTES = 365 * 24 * 60
MAX_INACTIVITY_DAYS = 365
MAX_OFFSET_DAYS = 365  # working days (or days) before a deadline
MAX_INACTIVITY_HOURS = 365 * 24
SLA_TARGETS = ("response", "resolution")
MAX_SLA_THRESHOLDS = 10  # thresholds per sla rule
CALENDAR_NAME_MAX = 80  # as sag_calendars.name
CRON_MAX = 120
WHEN_MAX = 64


def _cron_field(number: str) -> str:
    item = rf"(\*|({number})(-({number}))?)(/[1-9][0-9]?)?"
    return rf"{item}(,{item}){{0,9}}"


# Five cron fields, each `*`, a number, a range or a list, with an optional step: what croniter
# reads. (An expression that never fires, such as 31 February, is refused in code.)
CRON_PATTERN = r"^\s*" + r"\s+".join(_cron_field(n) for n in (
    "[0-5]?[0-9]", "[01]?[0-9]|2[0-3]", "0?[1-9]|[12][0-9]|3[01]", "0?[1-9]|1[0-2]", "[0-7]")) + r"\s*$"

DateTimeText = Annotated[str, StringConstraints(max_length=WHEN_MAX), WithJsonSchema(
    {"type": "string", "format": "date-time", "maxLength": WHEN_MAX,
     "description": "ISO date-time; without an offset: the acting user's time zone"})]
CalendarRef = Annotated[str, StringConstraints(min_length=1, max_length=CALENDAR_NAME_MAX), *VISIBLE, Field(
    description="A business-hours calendar by name (GET /api/v1/sag/calendars), or 'default'",
    examples=["default"])]
StatusRef = Annotated[str, *checked(r"^(any|[a-z][a-z0-9_]{0,31})$", "must be 'any' or a status key such as "
                                    "'waiting_customer' (see GET /api/v1/sag/statuses)"), Field(
    description="'any' or a key of GET /api/v1/sag/statuses", examples=["any", "waiting_customer"])]


# --- trigger configs: one shape per trigger_type ---------------------------------------------

class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StatusChangeConfig(_Config):
    """Fires when a case moves from `from` to `to` (either may be 'any'; not both the same status)."""

    from_: StatusRef = Field("any", alias="from")
    to: StatusRef = "any"


class ScheduledConfig(_Config):
    """Fires once at `at` (in the future)."""

    at: DateTimeText


class DeadlineConfig(_Config):
    """Fires this long before each case's deadline (offset_minutes wins over offset_hours, which
    wins over offset_days, when several are sent). With `calendar` the offset counts working
    hours or working days of that calendar."""

    model_config = ConfigDict(json_schema_extra=one_of_shapes(
        {"offset_minutes": {}}, {"offset_hours": {}}, {"offset_days": {}}))
    offset_minutes: whole_number(ge=0, le=MAX_OFFSET_MINUTES) = None
    offset_hours: whole_number(ge=0, le=MAX_OFFSET_MINUTES // 60) = None
    offset_days: whole_number(ge=0, le=MAX_OFFSET_DAYS) = None
    calendar: CalendarRef | None = None

    @model_validator(mode="after")
    def _one_offset(self):
        if self.offset_minutes is None and self.offset_hours is None and self.offset_days is None:
            raise ValueError("trigger_config for deadline needs offset_minutes, offset_hours or offset_days")
        return self


class RecurringConfig(_Config):
    """Fires on a 5-field cron schedule in `timezone` (default the hub's), until `until`."""

    cron: Annotated[str, StringConstraints(max_length=CRON_MAX), *checked(
        CRON_PATTERN, "must be a 5-field cron expression such as '0 8 * * 1-5'")] = Field(
        examples=["0 8 * * 1-5"])
    timezone: TimeZoneName | None = None
    until: DateTimeText | None = None


class InactivityConfig(_Config):
    """Fires for a case without an update for `days` days or `hours` hours (one of them); with
    `calendar`, working days or working hours of that calendar."""

    model_config = ConfigDict(json_schema_extra=one_of_shapes({"days": {}, "hours": None},
                                                              {"hours": {}, "days": None}))
    days: whole_number(ge=1, le=MAX_INACTIVITY_DAYS) = None
    hours: whole_number(ge=1, le=MAX_INACTIVITY_HOURS) = None
    calendar: CalendarRef | None = None

    @model_validator(mode="after")
    def _one_length(self):
        if (self.days is None) == (self.hours is None):
            raise ValueError("trigger_config for inactivity needs either days or hours")
        return self


class SlaConfig(_Config):
    """Fires when each threshold (percent of the target, 100 = the breach) of the case's SLA
    response or resolution target is used, in working time of the case's SLA calendar."""

    target: Literal["response", "resolution"] = "resolution"
    thresholds: list[whole_number(ge=1, le=100)] = Field(
        min_length=1, max_length=MAX_SLA_THRESHOLDS, examples=[[75, 100]],
        description="Percent of the target's working time; 100 = when it is breached")


TriggerConfig = StatusChangeConfig | ScheduledConfig | DeadlineConfig | RecurringConfig | InactivityConfig | SlaConfig
