"""The web server: pages for people, a JSON API for programs, live event push."""
