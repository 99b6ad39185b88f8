"""One way for the pure-module tests to say "this input is refused, naming this field"."""

import pytest

from scarrx.values import InputError


def refused(field, call, *args, **kwargs):
    """Call ``call(*args, **kwargs)``, expect an InputError naming ``field``; its message."""
    with pytest.raises(InputError) as caught:
        call(*args, **kwargs)
    assert caught.value.field == field
    return caught.value.message
