"""The HTTP adapter: Flask blueprints that translate requests to application calls and back."""
