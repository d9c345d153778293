"""Data errors: click shows their message and exits non-zero."""

import click


class DataError(click.ClickException):
    """Base class of data-staging errors."""


class DownloadError(DataError):
    """The archive could not be downloaded (network, HTTP status, truncated body)."""


class ChecksumMismatchError(DataError):
    """The downloaded archive's MD5 differs from the published one."""


class InvalidArchiveError(DataError):
    """The tarball lacks the CIFAR-100 python members, keys or the two classes' labels."""


class PreparedDataError(DataError):
    """A prepared data folder is missing or inconsistent (e.g. no train.lst)."""
