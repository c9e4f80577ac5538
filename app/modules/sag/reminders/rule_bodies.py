"""Reminder rules as the API receives them: the request bodies of a new rule and of a change.

Pydantic checks each field's type and bounds and the combinations the JSON Schema can state;
`rules.validate_rule` then does what needs the database or the clock (statuses, calendars,
users, templates, the next run) and turns the body into the stored row.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.core.fields import NOT_NUL, VISIBLE, all_of, one_of_shapes, whole_number
from app.modules.sag.reminders.trigger_configs import (
    CalendarRef,
    DateTimeText,
    DeadlineConfig,
    InactivityConfig,
    RecurringConfig,
    ScheduledConfig,
    SlaConfig,
    StatusChangeConfig,
    TriggerConfig,
)

__all__ = ["TRIGGER_TYPES", "DateTimeText", "Recipients", "RuleIn", "RulePatch", "rule_data"]

TRIGGER_TYPES = ("status_change", "scheduled", "deadline", "recurring", "inactivity", "sla")
MAX_LISTED_USERS = 100
MAX_EXTERNAL_EMAILS = 50
EMAIL_RE = re.compile(r"^[^@\s<>\"',;\x00-\x1f\x7f-\x9f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250})\.[A-Za-z]{2,}$")
EMAIL_MAX = 254
DEFAULT_GROUP_WINDOW_MIN = 2  # minutes: a rule's firings for one user this close together arrive as one



TriggerType = Literal["status_change", "scheduled", "deadline", "recurring", "inactivity", "sla"]
# Any registered channel (reminders/channels) or a destination `dest:<slug>` (reminders/destinations.py);
# the registry is checked in validate_rule.
ChannelName = Annotated[str, StringConstraints(pattern=r"^([a-z][a-z0-9_]{0,19}|dest:[a-z0-9-]{1,40})$")]
MAX_CHANNELS = 8  # as the CHECK on sag_reminders.channels
Priority = Literal["low", "normal", "high", "urgent"]
Role = Literal["admin", "user"]
UserId = whole_number(ge=1, lt=2**31)
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), *VISIBLE]
TitleTemplate = Annotated[str, StringConstraints(min_length=1, max_length=500), *VISIBLE]
MessageTemplate = Annotated[str, StringConstraints(max_length=5000), *NOT_NUL]


def _email(value: str) -> str:
    if len(value) > EMAIL_MAX or not EMAIL_RE.match(value.strip().lower()):
        raise ValueError(f"not a valid e-mail address: {value[:80]!r}")
    return value


Email = Annotated[str, AfterValidator(_email), WithJsonSchema(
    {"type": "string", "maxLength": EMAIL_MAX, "pattern": EMAIL_RE.pattern})]


def _not_null(value: Any, info) -> Any:
    if value is None:
        raise ValueError(f"{info.field_name} cannot be null; leave it out to keep it")
    return value


class Recipients(BaseModel):
    """Who gets the reminder; at least one kind. External e-mails need the e-mail channel."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=one_of_shapes(
        {"assignee": {"const": True}}, {"creator": {"const": True}}, {"watchers": {"const": True}},
        {"users": {"minItems": 1}}, {"roles": {"minItems": 1}}, {"emails": {"minItems": 1}}))
    assignee: StrictBool = False
    creator: StrictBool = False
    watchers: StrictBool = Field(False, description="The case's watchers (who did not unwatch it)")
    users: list[UserId] = Field(default_factory=list, max_length=MAX_LISTED_USERS,
                                description="User ids (they must exist)")
    roles: list[Role] = Field(default_factory=list, max_length=2)
    emails: list[Email] = Field(default_factory=list, max_length=MAX_EXTERNAL_EMAILS)

    @model_validator(mode="after")
    def _someone(self):
        if not (self.assignee or self.creator or self.watchers or self.users or self.roles or self.emails):
            raise ValueError("choose at least one recipient (assignee, creator, watchers, users, roles or e-mails)")
        return self



# Rule-level rules the schema states too: external e-mails need the e-mail channel;
# escalation needs escalate_after, escalate_role and repeat_every_hours together.
_RULE_SCHEMA = all_of(
    one_of_shapes({"recipients?": {"properties": {"emails": {"maxItems": 0}}}},
                  {"channels": {"contains": {"const": "email"}}}),
    one_of_shapes({"escalate_after": None, "escalate_role": None},
                  {"escalate_after": {}, "escalate_role": {}, "repeat_every_hours": {}}))


class _RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_RULE_SCHEMA)
    name: Name
    sag_id: whole_number(ge=1, lt=2**31) | None = Field(
        None, description="The case (it must exist); null = every case (administrators only)")
    recipients: Recipients = Field(default_factory=lambda: Recipients(assignee=True))
    channels: list[ChannelName] = Field(default_factory=lambda: ["in_app"], min_length=1, max_length=MAX_CHANNELS)
    title_template: TitleTemplate
    message_template: MessageTemplate = ""
    priority: Priority = "normal"
    active: StrictBool = True
    repeat_every_hours: whole_number(ge=1, le=720) | None = None
    escalate_after: whole_number(ge=1, le=100) | None = None
    escalate_role: Role | None = None
    deliver_in_opening_hours: StrictBool = Field(
        False, description="Hold firings outside the opening hours of opening_hours_calendar until it opens")
    opening_hours_calendar: CalendarRef | None = Field(
        None, description="The calendar whose opening hours count (default: the default calendar)")
    group_window_minutes: whole_number(ge=0, le=1440) = Field(
        DEFAULT_GROUP_WINDOW_MIN, description="Firings for one user within this many minutes arrive as one "
                                              "reminder listing the cases; 0 = never grouped")

    @model_validator(mode="after")
    def _combinations(self):
        if self.recipients.emails and "email" not in self.channels:
            raise ValueError("external e-mail recipients need the e-mail channel")
        if (self.escalate_after is None) != (self.escalate_role is None):
            raise ValueError("escalation needs both escalate_after and escalate_role")
        if self.escalate_after is not None and self.repeat_every_hours is None:
            raise ValueError("escalation happens on re-reminders: set repeat_every_hours too")
        return self


class StatusChangeRule(_RuleBase):
    trigger_type: Literal["status_change"]
    trigger_config: StatusChangeConfig = Field(default_factory=StatusChangeConfig)


class ScheduledRule(_RuleBase):
    trigger_type: Literal["scheduled"]
    trigger_config: ScheduledConfig


class DeadlineRule(_RuleBase):
    trigger_type: Literal["deadline"]
    trigger_config: DeadlineConfig


class RecurringRule(_RuleBase):
    trigger_type: Literal["recurring"]
    trigger_config: RecurringConfig


class InactivityRule(_RuleBase):
    trigger_type: Literal["inactivity"]
    trigger_config: InactivityConfig


class SlaRule(_RuleBase):
    trigger_type: Literal["sla"]
    trigger_config: SlaConfig


# A new rule: its trigger_config has the shape of its trigger_type.
RuleIn = Annotated[StatusChangeRule | ScheduledRule | DeadlineRule | RecurringRule | InactivityRule | SlaRule,
                   Field(discriminator="trigger_type")]


class RulePatch(BaseModel):
    """Changed fields of a rule. Left out = unchanged; null clears only the optional settings
    (message_template, repeat_every_hours, escalate_after, escalate_role). A trigger_config
    must fit the rule's (new) trigger_type."""

    model_config = ConfigDict(extra="forbid")
    name: Name = None
    trigger_type: TriggerType = None
    trigger_config: TriggerConfig = None
    recipients: Recipients = None
    channels: list[ChannelName] = Field(default=None, min_length=1, max_length=MAX_CHANNELS)
    title_template: TitleTemplate = None
    message_template: MessageTemplate | None = None
    priority: Priority = None
    active: StrictBool = None
    repeat_every_hours: whole_number(ge=1, le=720) | None = None
    escalate_after: whole_number(ge=1, le=100) | None = None
    escalate_role: Role | None = None
    deliver_in_opening_hours: StrictBool = None
    opening_hours_calendar: CalendarRef | None = None
    group_window_minutes: whole_number(ge=0, le=1440) = None

    _not_null = field_validator("name", "trigger_type", "trigger_config", "recipients", "channels",
                                "title_template", "priority", "active", "deliver_in_opening_hours",
                                "group_window_minutes",
                                mode="before")(_not_null)


def rule_data(body: BaseModel, *, patch: bool = False) -> dict[str, Any]:
    """A validated body as the plain dict `validate_rule` works on (a patch: the fields sent)."""
    data = body.model_dump(exclude_unset=patch, by_alias=True)
    if data.get("trigger_config") is not None:
        data["trigger_config"] = {k: v for k, v in data["trigger_config"].items() if v is not None}
    return data


