"""Version stamp carried by every measurement result.

Bump ALGORITHM_VERSION whenever a change could move a stored figure (chart detection,
correction model, metric definitions, pit measure, alignment), so results computed by
different code are never compared as if they were alike.
"""

ALGORITHM_VERSION = "scarrx-imaging/2.1"
