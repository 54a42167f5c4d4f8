"""Local stand-ins for the platforms' order APIs: small ASGI apps that speak each platform's documented
request format and signing, fed with fixtures, served over real HTTP (uvicorn in a thread)."""
