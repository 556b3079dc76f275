"""Forms: the engine (engine.py), the declarations (intake.py, cycle.py), the registry (registry.py)."""
