"""The admin site, served under /admin by the project's ASGI app."""
