"""Request model of the SLA policy API. Every constraint is stated here, so /openapi.json tells
a client what the API accepts; the database checks the same limits again."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.modules.sag.sla.models import Name

# Targets are working minutes; a year of round-the-clock time is far beyond any contract.
MAX_TARGET_MINUTES = 525_600
DEFAULT_PAUSE_STATUSES = ("waiting_customer", "on_hold")
DEFAULT_WARNING_PERCENT = 75
MAX_PAUSE_STATUSES = 20

StatusKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Minutes = Annotated[int, Field(ge=1, le=MAX_TARGET_MINUTES, description="Working minutes")]
DbId = Annotated[int, Field(gt=0, lt=2**31)]


def N_(text: str) -> str:  # noqa: N802 - the catalog's name for a marker that does not translate
    """Marks a validator's message for the catalog; the API answers it in English and the
    policy form shows it translated (`app.core.forms.validation_messages`)."""
    return text


def _unique(keys: list[str]) -> list[str]:
    if len(set(keys)) != len(keys):
        raise ValueError(N_("a status is listed twice"))
    return keys


class PolicyIn(BaseModel):
    """A whole policy. Leave `priority` and `customer_id` out for the default policy; the most
    specific policy wins (customer and priority, then customer, then priority, then default)."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    customer_id: DbId | None = None
    response_minutes: Minutes
    resolution_minutes: Minutes
    warning_percent: Annotated[int, Field(ge=1, le=99, description="The clock shows `warning` once this share "
                                                                   "of a target is used")] = DEFAULT_WARNING_PERCENT
    calendar_id: Annotated[DbId | None, Field(description="null: the customer's calendar (its own, else the "
                                                          "default)")] = None
    pause_statuses: Annotated[list[StatusKey], Field(max_length=MAX_PAUSE_STATUSES),
                              AfterValidator(_unique)] = list(DEFAULT_PAUSE_STATUSES)

    @model_validator(mode="after")
    def _ordered(self) -> PolicyIn:
        if self.resolution_minutes < self.response_minutes:
            raise ValueError(N_("the resolution target cannot be shorter than the first-response target"))
        return self
