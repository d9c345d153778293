"""What the emulator adds to moto, one module per AWS service; each has one idempotent `install()`.

`scones.local.server.MOTO_EXTENSIONS` lists the `install()`s the server runs.
"""
