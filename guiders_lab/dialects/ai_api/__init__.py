"""The ``ai-api`` dialect (the reference page): its wire shapes and record specs
(:mod:`.wire`, shared with the simulator) and its decoder (:mod:`.dialect`).

Kept free of imports so that reading :mod:`.wire` (the simulator does) loads no client code.
"""
