"""Serving exports to a phone: the HTTP server, what is in the export folder, the page,
the podcast feed, addresses and QR codes."""
