"""The local AWS emulator: moto's server plus what moto lacks for this system."""
