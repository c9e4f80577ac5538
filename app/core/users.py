"""Users: technicians and admins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import psycopg
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core import auth, database
from app.core.config import get_settings
from app.core.customers import EMAIL_PATTERN
from app.core.errors import Conflict, NotFound
from app.core.fields import NOT_NUL, TimeZoneName
from app.core.queries import load_queries

Q = load_queries(Path(__file__).parent / "queries" / "users.sql")

MIN_PASSWORD_LENGTH = 8
Username = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._@-]{2,64}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=200)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), *NOT_NUL]
Role = Literal["admin", "user"]
Language = Literal["da", "en"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    email: Email
    full_name: FullName = ""
    password: Password
    role: Role = "user"
    active: bool = True
    timezone: TimeZoneName | None = Field(None, description="IANA zone; null = the hub's zone")
    language: Language | None = Field(None, description="da or en; null = the hub's LANGUAGE")


class UserUpdate(BaseModel):
    """Changed fields; a field sent as null is left as it is."""

    model_config = ConfigDict(extra="forbid")
    email: Email | None = None
    full_name: FullName | None = None
    password: Password | None = None
    role: Role | None = None
    active: bool | None = None
    timezone: TimeZoneName | None = None
    language: Language | None = None


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    full_name: str
    role: str
    active: bool
    timezone: str
    language: str | None = None
    last_login_at: Any = None
    created_at: Any = None
    updated_at: Any = None


def _conflict(exc: psycopg.errors.UniqueViolation) -> Conflict:
    if "email" in (exc.diag.constraint_name or ""):
        return Conflict("Another user already has this e-mail address", field="email")
    return Conflict("This username is already taken", field="username")


def list_users() -> list[dict[str, Any]]:
    return database.execute_query(Q["list_users"])


def get_user(user_id: int) -> dict[str, Any]:
    rows = database.execute_query(Q["read_user"], {"id": user_id})
    if not rows:
        raise NotFound("User %(id)s not found", id=user_id)
    return rows[0]


def get_user_by_username(username: str) -> dict[str, Any]:
    rows = database.execute_query(Q["read_user_by_username"], {"username": username})
    if not rows:
        raise NotFound("No user named '%(name)s'", name=username)
    return rows[0]


def create_user(data: UserCreate) -> dict[str, Any]:
    try:
        new_id = database.execute_insert(Q["create_user"], {
            "username": data.username, "email": data.email, "full_name": data.full_name,
            "password_hash": auth.hash_password(data.password), "role": data.role,
            "active": data.active, "timezone": data.timezone or get_settings().timezone,
            "language": data.language,
        })
    except psycopg.errors.UniqueViolation as exc:
        raise _conflict(exc) from exc
    return get_user(new_id)


def update_user(user_id: int, data: UserUpdate) -> dict[str, Any]:
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    with database.transaction() as conn:
        current = get_user(user_id)
        conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
        losing_admin = current["role"] == "admin" and current["active"] and (
            changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
        if losing_admin and database.execute_query(Q["count_other_active_admins"], {"id": user_id})[0]["n"] == 0:
            raise Conflict("This is the last active administrator; make another user admin first")
        password = changes.pop("password", None)
        if password is not None:
            changes["password_hash"] = auth.hash_password(password)
        if changes:
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes
            )
            try:
                database.execute_update(
                    sql.SQL("UPDATE users SET {} WHERE id = {}").format(assignments, sql.Placeholder("id")),
                    {**changes, "id": user_id},
                )
            except psycopg.errors.UniqueViolation as exc:
                raise _conflict(exc) from exc
        if changes.get("active") is False or password is not None:
            auth.end_user_sessions(user_id)
    return get_user(user_id)


def count_admins() -> int:
    return database.execute_query(Q["count_admins"])[0]["n"]


def set_language(user_id: int, language: str | None) -> None:
    """The language the hub speaks to this user; None follows the hub's LANGUAGE setting."""
    database.execute_update(Q["update_language"], {"id": user_id, "language": language})
