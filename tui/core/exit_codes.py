"""Process exit statuses, shared by every subcommand so scripts can rely on them."""

OK = 0
TASK_FAILED = 1  # `wait`: at least one task failed (or is unknown to the server)
USAGE = 2  # bad arguments, bad config, invalid task IDs
TIMEOUT = 3  # `wait`: gave up with tasks still pending
AUTH = 4  # the server refused the API key
IN_USE = 5  # the dashboard: another instance holds the data folder
UNSAVED = 6  # the dashboard: changes could not be saved (read-only folder, disk full)
NOT_SENT = 7  # `generate`: the request never reached the server; running it again is safe
MAYBE_CREATED = 8  # `generate`: sent, no usable answer; the task may exist, do not just rerun
