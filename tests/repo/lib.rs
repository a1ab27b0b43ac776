//! Nothing to link: the checks are the integration tests in `tests/`.
