"""What every layer may import: errors with their exit codes, units, TOML loading.

Nothing here imports another part of mcusim.
"""
