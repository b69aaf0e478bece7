"""The domain: verbs that take and return domain values. They flush; the caller commits.

A package per domain: evidence, people, growth, frameworks, promotions, packets, personal_data
and the jobs people start; a page's data comes from its domain's `pages` (one call per page).
Who may do what is app/policy's; PDFs, markdown and file types are app/infra's.
"""
