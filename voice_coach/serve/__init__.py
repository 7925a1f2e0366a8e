"""The phone's studio and player: the HTTP server, the JSON API (routines, renders,
history, profile) and the key its writes need, what is in the export folder, the
page, the podcast feed, addresses and QR codes."""
