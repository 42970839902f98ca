"""The ``guiders-v2`` dialect: what the deployed Guiders backend really sends and takes.

(:mod:`.wire`, shared with the simulator: server and REST shapes and the records they
become, the canonical actions; :mod:`.dialect`: the decoder.)
"""
