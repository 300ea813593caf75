"""Admin pages, one module per subject; each exports ROUTES and NAV (see admin/app.py)."""
