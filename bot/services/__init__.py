"""Domain services used by handlers, the admin site and the command line."""
