// evaluations pages: behaviour that HTML + htmx cannot express. No inline scripts (CSP: script-src 'self').
