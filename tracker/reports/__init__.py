"""Reports for the donor: the IPTT and the progress report of a reporting period."""
