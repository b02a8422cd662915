"""The evaluations' HTTP side: pages, the compare screen, the form, downloads and the JSON API."""
