// The daemon's default schedule, kept apart from the daemon so that the command
// line can show it in --help without loading node-cron.

/** Once a day at 04:17 local time: a fixed minute that is not on the hour, when many clients fetch. */
export const DEFAULT_SCHEDULE = "17 4 * * *";
