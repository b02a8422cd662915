"""The datasets' HTTP side: pages, uploads, row fixes and the JSON API (HTTP only: the rules are
in the other rooms)."""
