"""The web UI: server-rendered pages (Jinja2 + HTMX) for the back office and the store counter, served by the
same app as the API. Pages call the capabilities' services exactly as the API routes do, with the same
principal, so roles and store scope hold the same way in both."""
