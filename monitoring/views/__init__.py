"""Monitoring's pages: each module one area (manual posts on the incident page, sources and schemes,
alerts, search and import); monitoring.urls names them."""
