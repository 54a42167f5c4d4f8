"""The ASGI application for servers that take an import string (`uvicorn teahub.asgi:app --workers 4`).

Configured from TEAHUB_* environment variables like everything else.
"""

from teahub.api import create_app

app = create_app()
