"""The Gemini gateway: the only package that imports ``google.genai`` and
``google.cloud.storage``. Call it through ``app.genai.gateway``; read its settings through
``app.genai.connection``; its results are the dataclasses of ``app.genai.types`` and its errors
those of ``app.genai.errors``."""
