"""Work orders, departments' queues, SLA calendars, assignment."""
