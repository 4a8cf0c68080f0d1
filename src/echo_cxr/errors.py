"""User-facing errors: one class whose message is shown as a single line by the CLI (exit code 2)."""


class EchoError(ValueError):
    """Bad input or an unusable resource (model, image, option), with a message a user can act on."""
