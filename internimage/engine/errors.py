"""The one exception the engine raises for a request it cannot carry out as given: a missing
config file, a ``--cfg-options`` key that nothing takes, a config of a task the project does not
have, a launch environment that lacks what the launcher needs. Its message names the problem in
the words a tool prints; the tools turn it into their exit
(``internimage.engine.launch.exits_on_usage_error``), library callers may catch it."""


class UsageError(Exception):
    """A config, override or launch environment the engine cannot work with; ``str(error)``
    is the whole message."""
