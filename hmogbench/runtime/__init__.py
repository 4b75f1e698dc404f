"""What every command runs on: the device and numerics policy (``device.py``), the locked environment
(``lock.py``), atomic writes and the provenance of every result (``provenance.py``), stopping on a signal at a
safe point (``stop_signals.py``), the GPU slots of the workflow's local jobs (``device_slots.py``)."""
