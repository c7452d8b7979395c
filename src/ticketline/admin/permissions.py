"""Roles and what each may do. Roles are fixed in code; staff hold one or more."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    FINANCE = "finance"
    TICKETING = "ticketing"
    DEPARTMENT_STAFF = "department_staff"
    AUDITOR = "auditor"


class Perm(StrEnum):
    STAFF_READ = "admin.staff.read"
    STAFF_WRITE = "admin.staff.write"
    AUDIT_READ = "admin.audit.read"
    SETTINGS_WRITE = "admin.settings.write"
    CALLS_HANDLE = "calls.handle"
    CALLS_SUPERVISE = "calls.supervise"
    CALLS_PICKUP = "calls.pickup"  # take a call ringing at another agent or waiting in a queue
    CDR_READ = "calls.cdr.read"
    TICKETING_READ = "ticketing.read"
    TICKETING_SELL = "ticketing.sell"
    CATALOG_WRITE = "ticketing.catalog.write"
    FINANCE_READ = "finance.read"
    FINANCE_WRITE = "finance.write"
    CRM_READ = "crm.read"
    CRM_WRITE = "crm.write"
    CRM_SEGMENTS = "crm.segments"  # filter, save and export customer lists
    WORKORDERS_READ = "workorders.read"
    WORKORDERS_WRITE = "workorders.write"
    KB_READ = "kb.read"
    KB_WRITE = "kb.write"
    REPORTS_READ = "reports.read"


_AGENT = {
    Perm.CALLS_HANDLE,
    Perm.TICKETING_READ,
    Perm.TICKETING_SELL,
    Perm.CRM_READ,
    Perm.CRM_WRITE,
    Perm.WORKORDERS_READ,
    Perm.WORKORDERS_WRITE,
    Perm.KB_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.SUPERVISOR: frozenset(
        _AGENT
        | {
            Perm.CALLS_SUPERVISE,
            Perm.CALLS_PICKUP,
            Perm.CDR_READ,
            Perm.REPORTS_READ,
            Perm.STAFF_READ,
            Perm.KB_WRITE,
            Perm.CRM_SEGMENTS,
        }
    ),
    Role.AGENT: frozenset(_AGENT),
    Role.FINANCE: frozenset(
        {Perm.FINANCE_READ, Perm.FINANCE_WRITE, Perm.TICKETING_READ, Perm.REPORTS_READ}
    ),
    Role.TICKETING: frozenset(
        {Perm.TICKETING_READ, Perm.TICKETING_SELL, Perm.CATALOG_WRITE, Perm.KB_READ}
    ),
    Role.DEPARTMENT_STAFF: frozenset(
        {Perm.WORKORDERS_READ, Perm.WORKORDERS_WRITE, Perm.CRM_READ, Perm.KB_READ}
    ),
    Role.AUDITOR: frozenset(
        {
            Perm.AUDIT_READ,
            Perm.CDR_READ,
            Perm.REPORTS_READ,
            Perm.FINANCE_READ,
            Perm.TICKETING_READ,
            Perm.STAFF_READ,
            Perm.CRM_READ,
            Perm.WORKORDERS_READ,
        }
    ),
}


def permissions_for(roles: list[str]) -> frozenset[Perm]:
    """The union of what the named roles may do; unknown role names grant nothing."""
    granted: set[Perm] = set()
    for name in roles:
        if name in Role.__members__.values():
            granted |= ROLE_PERMISSIONS[Role(name)]
    return frozenset(granted)
