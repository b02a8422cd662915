"""The local Vertex AI emulator: a separate HTTP server (``tunedesk emulator``) that speaks the
Vertex AI and Cloud Storage REST routes TuneDesk's gateway uses, so the product runs offline
through the real google-genai and google-cloud-storage SDKs. See ``server.py``."""
