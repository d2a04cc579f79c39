"""Built-in plugins. Each is small and registered exactly like a third-party plugin."""
