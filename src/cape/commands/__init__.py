"""Command-line views. Each module defines ``register(app)``; heavy imports stay inside command bodies."""
