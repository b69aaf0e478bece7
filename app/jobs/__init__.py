"""Job pages: progress while a job runs, its file when it is done, and your recent jobs."""
