"""Plain-text helpers shared by several domains (pure: no database, no web): the character
classes of Japanese script, and the answer/reference diff shown on review and compare screens."""
