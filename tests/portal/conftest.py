from tests.treatment.conftest import (  # noqa: F401 - the course's fixtures
    approver,
    batch,
    clock,
    gel,
    make_batch,
    preparation,
    rx,
)
