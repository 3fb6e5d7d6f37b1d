"""Layer 2: behaviour rules, one module per area (availability, appointments, orders)."""
