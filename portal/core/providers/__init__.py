"""Provider adapters: one module per vendor behind the interface in base.py."""
