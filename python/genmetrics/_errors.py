"""The exceptions of the package: one per genmetrics_status, each carrying the library's one-line message."""


class GenMetricsError(Exception):
    """Base class of every error raised by genmetrics. str(error) is the library's one-line message."""


class InputError(GenMetricsError, ValueError):
    """The data cannot be evaluated (GENMETRICS_E_INPUT): too few samples, k >= N, dimensions that differ,
    NaN or infinite values, a missing folder, a network that is not installed."""


class ArgumentError(GenMetricsError, ValueError):
    """The call is wrong (GENMETRICS_E_ARGUMENT): k < 1, an unknown network, a bad option value."""


class BackendError(GenMetricsError, RuntimeError):
    """The compute backend is unknown or unusable (GENMETRICS_E_BACKEND), e.g. "cuda" without a GPU."""


class InternalError(GenMetricsError, RuntimeError):
    """A bug in GenMetrics, or out of memory (GENMETRICS_E_INTERNAL)."""


_BY_STATUS = {1: InputError, 2: ArgumentError, 3: BackendError, 4: InternalError}


def from_status(status, message):
    return _BY_STATUS.get(status, GenMetricsError)(message)
