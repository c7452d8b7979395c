"""Administration: staff, roles and permissions, departments, skills, extensions, audit."""
