# The worker's fixtures: a key for a user on the test database, and the worker's environment.
from tests.worker.conftest import anyio_backend, make_key, make_user, worker_env  # noqa: F401
