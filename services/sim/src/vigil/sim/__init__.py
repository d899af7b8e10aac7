"""Vigil device simulators: glucose patients, a Health Auto Export phone, a pulse-oximeter.

Entry points: :func:`vigil.sim.run.run_all` (publish to a broker) and
:func:`vigil.sim.devices.events` (the messages of one device, without a broker).
"""
