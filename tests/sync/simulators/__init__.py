"""Local stand-ins for the ERPs, speaking their protocols over real HTTP (ASGI apps served by uvicorn on a free
port in a thread). Each keeps its documents in memory and has fault switches: answer 500, time out (after doing
the work, as when an ERP commits and the answer is lost), or refuse with a business error, N times."""
