"""The one exception the imaging core raises for bad input."""


class ImagingError(ValueError):
    """Bad or unusable input, with a one-line message fit to show a pharmacist.

    Subclasses ValueError so a caller that validates input can treat it like any other
    refused value (a form error on a page, a 4xx in the API, exit status 2 in the CLI).
    """
